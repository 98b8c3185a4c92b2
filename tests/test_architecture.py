"""The shape of the house: dependencies point one way, and no package imports another from inside a function.

The contracts live in pyproject.toml (``[tool.importlinter]``): shared machinery below the domain packages,
and no two packages importing each other. Reacting to another package goes through registration in
``create_app`` (``api/__init__.py``), never through an import hidden in a function.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where importing inside a function is the point: the app factory, and shell commands (imported when run).
ASSEMBLY = {"api/__init__.py", "api/cli.py"}


def test_import_linter_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "BROKEN" not in result.stdout and "2 kept, 0 broken" in result.stdout


def _imports_inside_functions(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for inner in ast.walk(node):
            names = []
            if isinstance(inner, ast.ImportFrom) and inner.module:
                names = [inner.module]
            elif isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            found += [f"{path.relative_to(ROOT)}:{inner.lineno} {name}" for name in names
                      if name == "api" or name.startswith("api.")]
    return found


def test_no_api_module_is_imported_inside_a_function():
    offenders = []
    for path in sorted((ROOT / "api").rglob("*.py")):
        if str(path.relative_to(ROOT)) not in ASSEMBLY:
            offenders += _imports_inside_functions(path)
    assert sorted(set(offenders)) == []

"""A Python client generated from an OpenAPI document with openapi-python-client, imported for a test."""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType


@contextmanager
def generated_python_client(document: Path, out: Path, package: str) -> Iterator[tuple[ModuleType, str]]:
    """Generate ``package`` from ``document`` under ``out`` and import it; yields (package, generator output).

    The package is importable only inside the block and forgotten afterwards."""
    (out / "config.yaml").write_text("post_hooks: []\n", encoding="utf-8")  # no ruff needed
    cli = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [str(cli), "generate", "--path", str(document), "--meta", "none", "--output-path", package,
         "--config", "config.yaml", "--fail-on-warning"],
        cwd=out, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(package), output
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]

"""Request input as the API accepts it: JSON nested at most 32 levels, text without NUL or lone surrogates.

One parse serves the body parser and the Idempotency-Key fingerprint, so neither can be pushed into a
RecursionError. Text is checked once here rather than per field: PostgreSQL refuses a NUL character in a
text value, and a lone UTF-16 surrogate (``"\\ud800"``) cannot be encoded for any database, so either would
otherwise fail deep inside a write.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

MAX_DEPTH = 32
BAD_TEXT = "Text may not contain a NUL character or a lone UTF-16 surrogate."


class TooDeep(ValueError):
    """The JSON nests arrays and objects deeper than MAX_DEPTH."""


class BadText(ValueError):
    """Strings (values or keys) hold characters no text column can store; ``paths`` name where."""

    def __init__(self, paths: list[str]):
        super().__init__(BAD_TEXT)
        self.paths = paths


def is_clean(text: str) -> bool:
    """False when ``text`` holds a NUL character or a lone surrogate (U+D800 to U+DFFF)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse(body: bytes | str) -> Any:
    """Parse a JSON body; raises ``json.JSONDecodeError`` (malformed), ``TooDeep`` or ``BadText``."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise TooDeep(f"JSON may nest at most {MAX_DEPTH} levels.") from None
    bad = list(_bad_text_paths(value))
    if bad:
        raise BadText(bad)
    return value


def _bad_text_paths(value: Any) -> Iterable[str]:
    """Walk the parsed value without recursion: checks depth first, then names every unclean string."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if not is_clean(item):
                yield path or "_schema"
            continue
        if isinstance(item, dict):
            children = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        if depth >= MAX_DEPTH:
            raise TooDeep(f"JSON may nest at most {MAX_DEPTH} levels.")
        for key, child in children:
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not is_clean(key):
                yield name.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")
                continue
            stack.append((child, name, depth + 1))

"""Text helpers the loaders share: storable snippets of input for reasons, NUL removal with counts, HTML tags."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

HTML_TAG = re.compile(r"<[^>]*>")


def snippet(value: Any, limit: int = 1000) -> str:
    """A short, storable form of an input value for a quarantine reason: JSON for structures, at most `limit`
    characters, valid UTF-8, no NUL (PostgreSQL text holds neither)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        text = bytes(value[:limit]).decode("utf-8", errors="replace")
    else:
        try:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        except ValueError:
            text = repr(value)
        except RecursionError:
            text = "(a value nested too deeply to show)"
    return text[:limit].encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


def without_nul(value: Any, counts: Counter | None, field: str | None = None, keys: bool = True) -> Any:
    """`value` with NUL removed from every string (keys too, unless `keys` is false), counting the cleaned
    strings: all under `field` when given, else per key path (`user.name`). Iterative, and in place for dicts
    and lists: a value the parser accepted may be nested deeper than Python's recursion limit allows."""

    def counted(path: str) -> None:
        if counts is not None:
            counts[field or snippet(path or "(value)", 200)] += 1

    if isinstance(value, str):
        if "\x00" in value:
            counted("")
            return value.replace("\x00", "")
        return value
    stack: list[tuple[Any, str]] = [(value, "")] if isinstance(value, (dict, list)) else []
    while stack:
        node, path = stack.pop()
        if keys and isinstance(node, dict) and any(isinstance(k, str) and "\x00" in k for k in node):
            for key in [k for k in node if isinstance(k, str) and "\x00" in k]:
                counted(f"{path}.{key}" if path else key)
                node[key.replace("\x00", "")] = node.pop(key)
        items = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
        for key, child in items:
            child_path = (f"{path}.{key}" if path else str(key)) if isinstance(node, dict) else path
            if isinstance(child, str):
                if "\x00" in child:
                    node[key] = child.replace("\x00", "")
                    counted(child_path)
            elif isinstance(child, (dict, list)):
                stack.append((child, child_path))
    return value

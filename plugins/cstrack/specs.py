"""Reading the YAML contracts people write (mappings, codebooks, the platform registry, dashboard specs).

One home for two defences: YAML aliases are refused (a "billion laughs" file of nested aliases would
otherwise expand until memory runs out), and each contract is checked by type against its JSON Schema
in `schemas/`, so a wrong type is one line naming the key (`fields.url.parse: ['url'] is not of type
'string'`) instead of a traceback somewhere in the loader.
"""

from __future__ import annotations

import codecs
import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from cstrack.errors import MappingError

SCHEMAS_DIR = Path(__file__).parent / "schemas"
MAX_SPEC_BYTES = 4 << 20  # a hand-written contract is a few KiB; more is a mistake or an attack


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (`*name`): contracts never need them, bombs always do."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"YAML aliases (*{event.anchor}) are not allowed in a contract", event.start_mark
            )
        return super().compose_node(parent, index)


def parse_yaml(text: str | bytes, where: str) -> Any:
    """The YAML document of `text`; MappingError naming `where` and the line if it is not valid YAML."""
    if len(text) > MAX_SPEC_BYTES:
        raise MappingError(f"{where}: {len(text)} bytes is too large for a contract (at most {MAX_SPEC_BYTES})")
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise MappingError(f"{where}: not valid YAML{line}: {problem}") from None
    except RecursionError:
        raise MappingError(f"{where}: not valid YAML: nested too deeply") from None


def read_yaml(path: Path) -> tuple[Any, bytes]:
    """(document, raw bytes) of a YAML contract file; MappingError if it is missing or not valid YAML."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise MappingError(f"{path}: file not found") from None
    except OSError as exc:
        raise MappingError(f"{path}: cannot be read: {exc.strerror}") from None
    return parse_yaml(raw, str(path)), raw


@cache
def _validator(schema_name: str):
    import jsonschema

    schema = json.loads((SCHEMAS_DIR / schema_name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _key_path(error) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


def validate(spec: Any, schema_name: str, where: str) -> None:
    """Check `spec` against `schemas/<schema_name>`; MappingError naming the first bad key otherwise."""
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator(schema_name).iter_errors(spec))
    if error is not None:
        message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
        raise MappingError(f"{where}: {_key_path(error)}: {message}")


def check_encoding(name: str, where: str) -> None:
    """A text encoding Python knows; MappingError naming the key otherwise (`base64` and other
    bytes-to-bytes codecs are known to Python but are not text encodings)."""
    try:
        codecs.lookup(name)
    except LookupError:
        raise MappingError(f"{where}: unknown encoding {name!r}") from None
    try:
        "".encode(name)
    except LookupError as exc:
        raise MappingError(f"{where}: {exc}") from None

"""The streaming JSON reader of the JSON formats (twitter_v2, mastodon): one top-level value at a time,
NUL characters removed and counted."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from cstrack.ingest.readers import NUL_REMOVED
from cstrack.ingest.text import without_nul

CHUNK_CHARS = 1 << 20
MAX_VALUE_CHARS = 64 << 20
# orjson reads an integer beyond 64 bits as a float: a line with 20 digits in a row, or a minus and 19, goes to
# the json module. Found on the line's bytes with every digit as 9, a minus as itself, anything else a space:
# two substring searches, about 5 times faster than a regular expression.
_NUMBER_SHAPE = bytes(57 if 48 <= i <= 57 else 45 if i == 45 else 32 for i in range(256))
_LONG_POSITIVE, _LONG_NEGATIVE = b"9" * 20, b"-" + b"9" * 19


def iter_json_values(path: Path, nul_removed: Counter | None = None) -> Iterator[tuple[Any, str | None]]:
    """Yield (value, None) for each top-level value, or (None, reason) for what cannot be parsed.

    A top-level array yields its elements; otherwise consecutive top-level values (JSON lines, one
    document, concatenated documents). After a syntax error, a sequence resumes at the next line (so
    one bad JSON line costs one line); inside an array nothing after the error can be trusted, so the
    rest of the array is reported once and not read. A value nested too deeply for the parser, or with
    a number of more digits than Python converts, is such an error (never a RecursionError).

    Strings never hold NUL: `\\u0000` escapes are removed, and counted per key path ('data.text') in
    `nul_removed` when given. Bytes that are not UTF-8 stay as lone surrogates (the caller refuses them).
    """
    decoder = json.JSONDecoder()
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:
        buf, pos, eof = "", 0, False
        lines_before = 0  # newlines in the text already dropped from buf, for line numbers in errors

        def fill(at_least: int = CHUNK_CHARS) -> None:
            nonlocal buf, pos, lines_before, eof
            chunk = handle.read(max(at_least, CHUNK_CHARS))
            lines_before += buf.count("\n", 0, pos)
            buf, pos = buf[pos:] + chunk, 0
            eof = not chunk

        def where(at: int) -> str:
            line_start = buf.rfind("\n", 0, at) + 1
            return f"line {lines_before + buf.count(chr(10), 0, at) + 1}, column {at - line_start + 1}"

        def skip_ws() -> bool:
            """Move to the next non-whitespace character; False at the end of the file."""
            nonlocal pos
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n\ufeff":
                    pos += 1
                if pos < len(buf):
                    return True
                if eof:
                    return False
                fill()

        def decode() -> tuple[Any, str | None]:
            """The value at pos (pos moves past it), or an error reason (pos stays)."""
            nonlocal pos
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                    if end < len(buf) or eof:  # a number at the buffer's end may continue in the next chunk
                        if buf.find("\\u0000", pos, end) >= 0:  # rare: walk the value only then
                            value = without_nul(value, nul_removed, keys=False)
                        pos = end
                        return value, None
                    fill(len(buf) - pos)
                    continue
                except json.JSONDecodeError as exc:
                    # an error within the last few characters may be a token cut by the read-ahead
                    incomplete = exc.pos >= len(buf) - 16 or exc.msg.startswith("Unterminated string")
                    if incomplete and not eof and len(buf) - pos < MAX_VALUE_CHARS:
                        fill(len(buf) - pos)  # doubling: a large value costs linear time
                        continue
                    if len(buf) - pos >= MAX_VALUE_CHARS:
                        return None, f"a JSON value at {where(pos)} is larger than {MAX_VALUE_CHARS} characters"
                    return None, f"not valid JSON at {where(exc.pos)}: {exc.msg}"
                except RecursionError:
                    return None, f"the JSON value at {where(pos)} is nested too deeply to read"
                except ValueError as exc:  # a number of more digits than int() converts (sys.get_int_max_str_digits)
                    return None, f"the JSON value at {where(pos)} cannot be read: {str(exc).split(';')[0]}"

        def whole_line() -> tuple[Any, None] | None:
            """JSON lines' fast path: the rest of the line read by orjson (about 3 times faster than the json
            module); None, for decode() to read it, where orjson refuses it or would read it otherwise (several
            values on the line, an error, a long integer, NaN, a lone surrogate, nesting over 1024)."""
            nonlocal pos
            newline = buf.find("\n", pos)
            if newline < 0:
                return None
            line = buf[pos:newline].encode("utf-8", "surrogateescape")
            shape = line.translate(_NUMBER_SHAPE)
            if _LONG_POSITIVE in shape or _LONG_NEGATIVE in shape:
                return None
            try:
                value = orjson.loads(line)  # bytes that are not UTF-8 are refused: decode() keeps them as surrogates
            except orjson.JSONDecodeError:
                return None
            if b"\\u0000" in line:
                value = without_nul(value, nul_removed, keys=False)
            pos = newline + 1
            return value, None

        if not skip_ws():
            return
        if buf[pos] == "[":
            pos += 1
            first = True
            while True:
                if not skip_ws():
                    yield None, f"unexpected end of file inside the top-level array at {where(pos)}"
                    return
                if buf[pos] == "]":
                    pos += 1
                    break
                if not first:
                    if buf[pos] != ",":
                        yield (
                            None,
                            f"not valid JSON at {where(pos)}: expecting ',' between"
                            " array elements; the rest of the file was not read",
                        )
                        return
                    pos += 1
                    if not skip_ws():
                        yield None, f"unexpected end of file inside the top-level array at {where(pos)}"
                        return
                first = False
                value, error = decode()
                if error:
                    yield None, error + "; the rest of the file was not read"
                    return
                yield value, None
            if skip_ws():
                yield None, f"unexpected data after the top-level array at {where(pos)}"
            return
        while skip_ws():
            value, error = whole_line() or decode()
            if error:
                yield None, error
                # resume at the next line: JSON lines hold one value per line
                while True:
                    newline = buf.find("\n", pos)
                    if newline >= 0:
                        pos = newline + 1
                        break
                    if eof:
                        pos = len(buf)
                        break
                    fill()
                continue
            yield value, None


def record_nul(nul_removed: Counter, unmapped: Counter | None) -> None:
    """NUL removals (field -> strings) as ops.unmapped_values rows (field, NUL_REMOVED, n)."""
    if unmapped is not None:
        for field, n in nul_removed.items():
            unmapped[(field, NUL_REMOVED)] += n

"""The streaming JSON reader of the JSON formats (twitter_v2, mastodon): one top-level value at a time,
NUL characters removed and counted."""

from __future__ import annotations

import io
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


class NotJsonLines(Exception):
    """A value continues past its line: the input cannot be read line by line (see json_lines_values)."""


_DECLINED = object()
_JSON_WHITESPACE = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"
# a line longer than this goes to the text reader, which refuses values over MAX_VALUE_CHARS (memory stays flat)
MAX_LINE_BYTES = 4 * MAX_VALUE_CHARS


def _fast_value(line: bytes, nul_removed: Counter | None) -> Any:
    """JSON lines' fast path: one line read by orjson (about 3 times faster than the json module, and no text
    decoding); _DECLINED where orjson refuses it or would read it otherwise (several values on the line, an
    error, a long integer, NaN, invalid UTF-8, a lone surrogate, nesting over 1024): the json module reads it."""
    shape = line.translate(_NUMBER_SHAPE)
    if _LONG_POSITIVE in shape or _LONG_NEGATIVE in shape:
        return _DECLINED
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return _DECLINED
    if b"\\u0000" in line:
        value = without_nul(value, nul_removed, keys=False)
    return value


def _lone_cr(line: bytes) -> bool:
    """A carriage return not ending the line: a line break to the text reader (universal newlines)."""
    return line.find(b"\r", 0, len(line) - 2 if line.endswith(b"\r\n") else len(line)) >= 0


def _too_long(line: bytes) -> bool:
    """More than readline(MAX_LINE_BYTES) returns whole: the text reader reads (or refuses) it."""
    return len(line) > MAX_LINE_BYTES or (len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"))


def _line_content(line: bytes, first_line: bool) -> bytes:
    """A line without the whitespace around it (and the first line without a UTF-8 byte order mark)."""
    content = line.strip(_JSON_WHITESPACE)
    if first_line and content.startswith(_BOM):
        content = content[len(_BOM) :].lstrip(_JSON_WHITESPACE)
    return content


def iter_json_values(path: Path, nul_removed: Counter | None = None) -> Iterator[tuple[Any, str | None]]:
    """Yield (value, None) for each top-level value, or (None, reason) for what cannot be parsed.

    A top-level array yields its elements; otherwise consecutive top-level values (JSON lines, one
    document, concatenated documents). After a syntax error, a sequence resumes at the next line (so
    one bad JSON line costs one line); inside an array nothing after the error can be trusted, so the
    rest of the array is reported once and not read. A value nested too deeply for the parser, or with
    a number of more digits than Python converts, is such an error (never a RecursionError).

    Strings never hold NUL: `\\u0000` escapes are removed, and counted per key path ('data.text') in
    `nul_removed` when given. Bytes that are not UTF-8 stay as lone surrogates (the caller refuses them).

    JSON lines are read as bytes, a line at a time by orjson, as long as it reads them (no text decoding: a
    sixth of a social load's time); from the first line it declines, or a top-level array, the json module reads
    the rest of the file as text.
    """
    with path.open("rb") as handle:
        offset = lines = 0
        first = True  # no value yet: a top-level array may start
        while line := handle.readline(MAX_LINE_BYTES):
            if _too_long(line) or _lone_cr(line):
                break  # a line too long to hold, or a lone CR (a line break to it): the text reader reads the rest
            if content := _line_content(line, offset == 0):
                if first and content.startswith(b"["):
                    break
                value = _fast_value(content, nul_removed)
                if value is _DECLINED:
                    break
                first = False
                yield value, None
            offset += len(line)
            lines += 1
        else:
            return
        handle.seek(offset)
        # universal newlines, as the text reader always read files
        text = io.TextIOWrapper(handle, encoding="utf-8", errors="surrogateescape")
        yield from _text_values(text, nul_removed, lines, first)


def json_lines_values(
    data: bytes, lines_before: int, nul_removed: Counter | None, first: bool
) -> Iterator[tuple[Any, str | None]]:
    """The values of whole lines of a file (`data`, its lines after the first `lines_before`; `first`: no value
    before them), as iter_json_values reads them there: for a worker reading part of a file. A line orjson
    declines is read alone by the text reader, which then gives what iter_json_values gives, unless a value of
    the line may go on past it, or the file starts with an array: NotJsonLines."""
    for line in io.BytesIO(data):  # lines end at \n only, as iter_json_values reads them
        if _too_long(line) or _lone_cr(line):  # iter_json_values reads the rest of the file as text
            raise NotJsonLines("a line too long, or a carriage return inside a line")
        if content := _line_content(line, lines_before == 0):
            if first and content.startswith(b"["):
                raise NotJsonLines("a top-level array")
            value = _fast_value(content, nul_removed)
            if value is _DECLINED:
                if first:  # before any value the text reader may start an array (after a byte order mark)
                    raise NotJsonLines("the first value of the file is not a JSON line")
                text = io.StringIO(line.decode("utf-8", "surrogateescape"), newline=None)  # universal newlines
                yield from _text_values(text, nul_removed, lines_before, first=False, one_line=True)
            else:
                yield value, None
            first = False
        lines_before += 1


def _text_values(
    handle, nul_removed: Counter | None, lines_before: int = 0, first: bool = True, one_line: bool = False
) -> Iterator[tuple[Any, str | None]]:
    """iter_json_values from a text handle on, after `lines_before` lines. `first`: nothing was read before, so
    a top-level array may start. `one_line`: the handle holds one line of the file; NotJsonLines when a value
    reaches its end unfinished (it may go on in the next lines)."""
    decoder = json.JSONDecoder()
    buf, pos, eof = "", 0, False  # lines_before: newlines in the text already dropped from buf
    line_dropped = 0

    def fill(at_least: int = CHUNK_CHARS) -> None:
        nonlocal buf, pos, lines_before, eof, line_dropped
        chunk = handle.read(max(at_least, CHUNK_CHARS))
        newlines = buf.count("\n", 0, pos)
        lines_before += newlines
        # characters of the current line dropped with the text before pos, for where()'s columns
        line_dropped = (pos - buf.rfind("\n", 0, pos) - 1) if newlines else line_dropped + pos
        buf, pos = buf[pos:] + chunk, 0
        eof = not chunk

    def where(at: int) -> str:
        newline = buf.rfind("\n", 0, at)
        column = at - newline if newline >= 0 else line_dropped + at + 1
        return f"line {lines_before + buf.count(chr(10), 0, at) + 1}, column {column}"

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
                if one_line and (exc.pos >= len(buf.rstrip()) or exc.msg.startswith("Unterminated string")):
                    raise NotJsonLines(f"a value at {where(pos)} reaches the end of its line") from None
                return None, f"not valid JSON at {where(exc.pos)}: {exc.msg}"
            except RecursionError:
                return None, f"the JSON value at {where(pos)} is nested too deeply to read"
            except ValueError as exc:  # a number of more digits than int() converts (sys.get_int_max_str_digits)
                return None, f"the JSON value at {where(pos)} cannot be read: {str(exc).split(';')[0]}"

    def fast_line() -> tuple[Any, None] | None:
        """The rest of the line read by orjson; None, for decode() to read it, where orjson declines it."""
        nonlocal pos
        newline = buf.find("\n", pos)
        if newline < 0:
            return None
        value = _fast_value(buf[pos:newline].encode("utf-8", "surrogateescape"), nul_removed)
        if value is _DECLINED:
            return None
        pos = newline + 1
        return value, None

    if not skip_ws():
        return
    if first and buf[pos] == "[":
        pos += 1
        first_element = True
        while True:
            if not skip_ws():
                yield None, f"unexpected end of file inside the top-level array at {where(pos)}"
                return
            if buf[pos] == "]":
                pos += 1
                break
            if not first_element:
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
            first_element = False
            value, error = decode()
            if error:
                yield None, error + "; the rest of the file was not read"
                return
            yield value, None
        if skip_ws():
            yield None, f"unexpected data after the top-level array at {where(pos)}"
        return
    while skip_ws():
        value, error = fast_line() or decode()
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

"""Strict readers of the files people export, shared by every loader (catalogue, survey, social).

Real exports are broken in a few recurring ways; each ends here in one of two ways, never in a silent
merge or a traceback:
- a row to quarantine (the loader records the reason): a row whose field count differs from the
  header's, a cell over MAX_CELL_CHARS, a malformed quoted cell on one line;
- a MappingError, one line naming the file, the row and the line: a quote that is never closed
  (it would swallow every following row into one cell), a byte that is not of the declared encoding
  (with its byte offset), a workbook that is not one, a missing sheet, JSON nested too deeply.
NUL bytes are never data (and PostgreSQL text cannot hold them): they are removed and counted per
column in `nul_cells`, which loaders record in ops.unmapped_values.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cstrack.errors import MappingError

MAX_CELL_CHARS = 128 * 1024  # a description of a project or an answer; more is a broken file
NUL_REMOVED = "<NUL bytes removed>"  # the ops.unmapped_values value that counts cleaned cells

csv.field_size_limit(MAX_CELL_CHARS)  # csv's own default, stated: the cap quarantines a row (see rows)


class UnterminatedQuote(MappingError):
    """A quoted cell that is never closed: `row` and `line` where it opened (nothing after it can be trusted)."""

    def __init__(self, message: str, row: int, line: int):
        super().__init__(message)
        self.row, self.line = row, line


class CsvFile:
    """A CSV export read strictly: `header`, `duplicated` header names, and `rows()`."""

    def __init__(self, path: str | Path, encoding: str = "utf-8-sig", delimiter: str = ",", errors: str = "strict"):
        """`errors="surrogateescape"` keeps undecodable bytes as lone surrogates instead of refusing the
        file, for a loader that quarantines such a row by itself."""
        self.path, self.encoding, self.delimiter, self.errors = Path(path), encoding, delimiter, errors
        self.nul_cells: Counter = Counter()  # column -> cells whose NUL bytes were removed
        try:
            with self._open() as handle:
                header = next(csv.reader(handle, delimiter=delimiter, strict=True), [])
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc) from None
        except UnicodeError as exc:  # not a decoding of one byte: e.g. a UTF-16 file without its BOM
            raise MappingError(f"{self.path}: not valid {self.encoding}: {exc}") from None
        except csv.Error as exc:
            raise MappingError(f"{self.path}: the header (line 1) is not valid CSV: {exc}") from None
        if header and header[0].startswith("\ufeff"):  # a BOM under an encoding that keeps it (`utf-8`)
            header[0] = header[0][1:]
        self.header = [self._clean(name, "(header)") for name in header]
        seen: Counter = Counter(self.header)
        self.duplicated = sorted(name for name, n in seen.items() if n > 1)

    def _open(self, errors: str | None = None):
        return self.path.open(encoding=self.encoding, errors=errors or self.errors, newline="")

    def _clean(self, cell: str, column: str) -> str:
        if "\x00" in cell:
            self.nul_cells[column] += 1
            return cell.replace("\x00", "")
        return cell

    def rows(self) -> Iterator[tuple[int, int, list[str] | None, str | None]]:
        """(row, line, cells, None) for each data row, or (row, line, None, reason) for a row to quarantine.

        `row` counts data rows from 1 (blank lines are skipped and not counted), `line` is the line of the
        file where the row starts (the header is line 1).
        """
        width = len(self.header)
        header = self.header
        number = 0
        try:
            with self._open() as handle:
                lines = csv.reader(handle, delimiter=self.delimiter, strict=True)
                next(lines, None)
                while True:
                    start = lines.line_num + 1
                    try:
                        cells = next(lines)
                    except StopIteration:
                        return
                    except csv.Error as exc:
                        number += 1
                        if lines.line_num > start or "end of data" in str(exc):
                            # inside a quoted cell across lines: the rows it took in cannot be told apart
                            raise UnterminatedQuote(
                                f"{self.path}: row {number} (line {start}): a quoted cell opened here is never "
                                f"closed where it should be (unterminated quote?): {_csv_reason(exc)}",
                                number,
                                start,
                            ) from None
                        yield number, start, None, f"line {start}: not valid CSV: {_csv_reason(exc)}"
                        continue
                    if not cells:
                        continue
                    number += 1
                    if len(cells) != width:
                        extra = cells[width:]
                        if len(cells) < width or any(cell.strip() for cell in extra):
                            yield (
                                number,
                                start,
                                None,
                                (f"line {start}: {len(cells)} fields where the header has {width}"),
                            )
                            continue
                        cells = cells[:width]  # trailing empty fields (a spreadsheet's extra delimiters)
                    if lines.line_num > start:  # a quoted cell over several lines: rare, and worth a look
                        swallowed = _swallowed_rows(cells, self.delimiter, width, start)
                        if swallowed is not None:
                            yield number, start, None, swallowed
                            continue
                    if "\x00" in "".join(cells):
                        cells = [self._clean(cell, name) for cell, name in zip(cells, header, strict=False)]
                    yield number, start, cells, None
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc) from None
        except UnicodeError as exc:
            raise MappingError(f"{self.path}: row {number + 1}: not valid {self.encoding}: {exc}") from None

    def _decode_error(self, exc: UnicodeDecodeError) -> MappingError:
        """Name the row, line and byte offset of the first byte that is not of the encoding: the decoder
        reads ahead in blocks, so the record being parsed when it fails may be far before the bad byte."""
        line, offset = _first_bad_byte(self.path, self.encoding)
        try:
            row = self._row_at_line(line)
        except (UnicodeError, csv.Error):  # a UTF-16 file without its BOM; a line past the cell cap
            row = None
        where = "the header" if row == 0 else f"row {row}" if row is not None else "a row"
        return MappingError(
            f"{self.path}: {where} (line {line}, byte {offset}): not valid {self.encoding}: {exc.reason}"
        )

    def _row_at_line(self, line: int) -> int:
        with self._open(errors="replace") as handle:
            lines = csv.reader(handle, delimiter=self.delimiter)
            row = -1
            for cells in lines:
                if cells:
                    row += 1
                if lines.line_num >= line:
                    return max(row, 0)
        return row + 1


def _swallowed_rows(cells: list[str], delimiter: str, width: int, line: int) -> str | None:
    """The reason to quarantine a row whose quoted cell spans lines that each read as a row of their own:
    a stray quote closed by another one further down (`1;"Title;a@x.org` ... `9;Other";b@x.org`) is valid
    CSV with the right field count, but it would merge those rows, their contacts included, into one cell.
    Such a cell's first line completes the row's cells before it to a header's width of fields, its middle
    lines are rows of their own, its last line starts one more (the cells after it may be shifted: a quoted
    delimiter of that row now splits a cell); a genuine multi-line cell (a description in paragraphs) rarely
    holds on its first line the delimiters that complete its row."""
    for k, cell in enumerate(cells):
        if ("\n" not in cell and "\r" not in cell) or cell.count(delimiter) < width - 1:
            continue  # its first and last lines together hold at least width - 1 delimiters
        counts = [text.count(delimiter) for text in _LINE_BREAK.split(cell)]
        if (  # the delimiters a merged row leaves on the first line (its trailing empty cells may add some)
            k + counts[0] + 1 >= width and all(n + 1 >= width for n in counts[1:-1]) and counts[-1] + 1 <= width
        ):
            return (
                f"line {line}: a quoted cell runs over {len(counts)} lines that each read as a row of their own "
                "(a stray quote?)"
            )
    return None


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a cell is over {MAX_CELL_CHARS // 1024} KiB"
    return text


def _first_bad_byte(path: Path, encoding: str) -> tuple[int, int]:
    """(line, byte offset) of the first byte `encoding` cannot decode."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with path.open("rb") as handle:
        for line, data in enumerate(handle, start=1):
            try:
                decoder.decode(data)
            except UnicodeDecodeError as exc:
                return line, offset + max(exc.start, 0)
            except UnicodeError:
                return line, offset
            offset += len(data)
    return line if offset else 1, offset


def xlsx_rows(path: Path, sheet: int | str, definition: Path) -> Iterator[tuple]:
    """The rows (tuples of cell values) of one sheet of a workbook; MappingError for a file that is not a
    workbook (corrupt, or another format renamed .xlsx) or a sheet that is not in it."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 -- openpyxl raises zip, XML and key errors for files that are not workbooks
        raise MappingError(f"{path}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    try:
        try:
            worksheet = book.worksheets[sheet] if isinstance(sheet, int) else book[sheet]
        except (IndexError, KeyError):
            raise MappingError(
                f"{definition}: sheet {sheet!r} not found in {path}; its sheets: {book.sheetnames}"
            ) from None
        try:
            yield from worksheet.iter_rows(values_only=True)
        except Exception as exc:  # noqa: BLE001 -- a damaged sheet part: XML or zip errors while reading
            raise MappingError(f"{path}: sheet {sheet!r} is damaged ({type(exc).__name__}: {exc})") from None
    finally:
        book.close()


def json_loads(text: str | bytes, where: str) -> Any:
    """json.loads with one-line errors: a syntax error names the line, nesting too deep for the parser
    (JSON nested 10^5 deep) is refused instead of a RecursionError."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise MappingError(f"{where}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise MappingError(f"{where}: JSON nested too deeply to read") from None
    except UnicodeDecodeError as exc:
        raise MappingError(f"{where}: not valid UTF-8 JSON at byte {exc.start}: {exc.reason}") from None
    except ValueError as exc:  # an integer of more than 4300 digits (Python's cap on int parsing)
        raise MappingError(f"{where}: not readable JSON: {exc}") from None

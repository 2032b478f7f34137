"""Catalogue exports loaded through declarative mappings (docs/design-notes.md §6.1).

A mapping (`catalogues/<source>.yml`) names, for each canonical field, the column(s) of the export
and the rules that turn cells into canonical values. The mapping is validated against the contract
(friendly checks, then its JSON Schema `schemas/catalogue_mapping.schema.json` for every type) and
against the file's columns before a single row loads; rows then stream into `raw.catalogue_record`
through COPY, rejected rows into `ops.quarantine`.

Files are read strictly (cstrack.ingest.readers): a CSV row whose field count differs from the
header's, a cell over 128 KiB, a malformed quote on one line, a JSON or XLSX record with a value over
128 KiB (or a NaN, or a lone surrogate PostgreSQL cannot store), a JSON-lines line that is not valid
JSON or is nested too deeply: each is quarantined with its reason. An unterminated quote, a byte not of
the declared encoding, a JSON document nested too deeply, a workbook that is not one or a missing sheet,
a duplicated header name that the mapping uses: the file is refused in one line naming the row or key.
NUL bytes are removed and counted in ops.unmapped_values as (column, readers.NUL_REMOVED).
"""

from __future__ import annotations

import abc
import hashlib
import json
import multiprocessing
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from cstrack import config, specs, warehouse
from cstrack.errors import CstrackError, MappingError
from cstrack.ingest import pool, readers
from cstrack.ingest.loading import Load, LoadResult, RawTable, load_inbox_folder
from cstrack.ingest.parsing import PARSERS, is_placeholder, normalise_key
from cstrack.ingest.text import without_nul

CANONICAL_FIELDS = {
    "title", "aim", "description", "url", "status", "start_date", "end_date", "countries",
    "geographic_extent", "latitude", "longitude", "language", "topics", "sdgs", "participation_tasks",
    "lead_organisation", "organisation_type", "funding", "participants_active", "participants_registered",
    "keywords", "contact",
    # data practices (FAIR): where the data is, how open, whether researchers may reuse it, under which licence
    "data_url", "data_access", "reusable_for_research", "data_licence",
}  # fmt: skip
SOURCE_RULES = ("column", "columns", "columns_matching", "value")
MODIFIERS = {"map", "split", "parse", "pii", "values"}
TOP_LEVEL = {"source", "title", "licence", "credit", "format", "csv", "records", "id", "fields", "sheet", "description"}
FORMATS = {"csv", "json", "jsonl", "xlsx"}
SCHEMA = "catalogue_mapping.schema.json"


@dataclass
class FieldRule:
    name: str
    kind: str  # which source rule: column | columns | columns_matching | value
    column: str | None = None
    columns: list[str] = field(default_factory=list)
    columns_matching: re.Pattern | None = None
    value: Any = None
    map: dict[str, Any] | None = None
    values: dict[str, Any] | None = None
    split: str | None = None
    parse: str | None = None
    pii: bool = False
    matched_columns: list[str] = field(default_factory=list)  # columns_matching, resolved on the header


@dataclass
class Mapping:
    path: Path
    source: str
    format: str
    fields: list[FieldRule]
    id_column: str | None
    csv_options: dict[str, str]
    records: str | None
    sheet: int | str
    sha256: str
    credit: str  # the attribution a report shows for this source (its licence may require it)

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        path = Path(path)
        where = str(path)
        if not path.is_file():
            raise MappingError(f"{where}: mapping file not found")
        spec, raw = specs.read_yaml(path)  # aliases refused: a YAML bomb is one line, not a full memory
        _check_contract(where, spec)
        rules = [_field_rule(where, name, rule) for name, rule in spec["fields"].items()]
        csv_options = {"delimiter": ",", "encoding": "utf-8-sig", **(spec.get("csv") or {})}
        if spec["format"] == "csv" or spec.get("csv"):
            specs.check_encoding(csv_options["encoding"], f"{where}: csv.encoding")
        return cls(
            path=path,
            source=spec["source"],
            format=spec["format"],
            fields=rules,
            id_column=spec.get("id"),
            csv_options=csv_options,
            records=spec.get("records"),
            sheet=spec.get("sheet", 0),
            sha256=hashlib.sha256(raw).hexdigest(),
            credit=spec.get("credit")
            or f"{spec.get('title', spec['source'])} ({spec.get('licence', 'licence not stated')})",
        )


def _check_contract(where: str, spec: Any) -> None:
    """The contract's friendly messages first (they list what is allowed), each only where the value has
    the expected type; then the JSON Schema, which names the key path of any wrong type."""
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: a mapping is a YAML object with `source`, `format` and `fields`")
    unknown = set(spec) - TOP_LEVEL
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {sorted(map(str, unknown))}; allowed: {sorted(TOP_LEVEL)}")
    for key in ("source", "format", "fields"):
        if key not in spec:
            raise MappingError(f"{where}: missing required key `{key}`")
    if isinstance(spec["source"], str) and not re.fullmatch(r"[a-z][a-z0-9_]*", spec["source"]):
        raise MappingError(f"{where}: source {spec['source']!r} must be lower_snake_case")
    if isinstance(spec["format"], str) and spec["format"] not in FORMATS:
        raise MappingError(f"{where}: format {spec['format']!r} is not one of {sorted(FORMATS)}")
    fields = spec["fields"]
    if not isinstance(fields, dict) or "title" not in fields:
        raise MappingError(f"{where}: `fields` must be an object and map at least `title`")
    for name, rule in fields.items():
        if name not in CANONICAL_FIELDS:
            raise MappingError(
                f"{where}: field '{name}' is not a canonical field; known: {', '.join(sorted(CANONICAL_FIELDS))}"
            )
        if not isinstance(rule, dict):
            continue
        sources = [key for key in SOURCE_RULES if key in rule]
        if len(sources) != 1:
            raise MappingError(f"{where}: field '{name}': give exactly one of {', '.join(SOURCE_RULES)}")
        unknown = set(rule) - set(SOURCE_RULES) - MODIFIERS
        if unknown:
            raise MappingError(f"{where}: field '{name}': unknown rule(s) {sorted(map(str, unknown))}")
        if isinstance(rule.get("parse"), str) and rule["parse"] not in PARSERS:
            raise MappingError(f"{where}: field '{name}': parse {rule['parse']!r} is not one of {', '.join(PARSERS)}")
    specs.validate(spec, SCHEMA, where)
    for name, rule in fields.items():
        if not isinstance(rule, dict):
            continue
        for key in ("value", "map", "values"):
            if key in rule:
                try:
                    json.dumps(rule[key], allow_nan=False)
                except ValueError:
                    raise MappingError(f"{where}: fields.{name}.{key}: NaN and infinity are not JSON values") from None


def _field_rule(where: str, name: str, rule: Any) -> FieldRule:
    """The rule of one field, its types checked by the schema already."""
    if isinstance(rule, str):
        return FieldRule(name=name, kind="column", column=rule)
    sources = [key for key in SOURCE_RULES if key in rule]
    pattern = None
    if "columns_matching" in rule:
        try:
            pattern = re.compile(rule["columns_matching"])
        except re.error as exc:
            raise MappingError(f"{where}: field '{name}': columns_matching is not a valid regex: {exc}") from None
    columns = rule.get("columns") or []
    return FieldRule(
        name=name,
        kind=sources[0],
        column=rule.get("column"),
        columns=[str(c) for c in columns],
        columns_matching=pattern,
        value=rule.get("value"),
        map={normalise_key(str(k)): v for k, v in rule["map"].items()} if "map" in rule else None,
        values={str(k): v for k, v in (rule.get("values") or {}).items()} or None,
        split=rule.get("split"),
        parse=rule.get("parse"),
        pii=bool(rule.get("pii", False)),
    )


# --- readers: each yields (row_number, {column: value}, None) or (row_number, None, reason) -------------


def _lookup(row: dict, column: str):
    """A column by name, or for nested records a dotted path such as `contactPoint.email`."""
    if isinstance(row, dict) and column in row:
        return row[column]
    value: Any = row
    for part in column.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return None
    return value


class Reader(abc.ABC):
    def __init__(self, mapping: Mapping, path: Path):
        self.mapping, self.path = mapping, path
        self.columns: list[str] = []  # in file order
        self.duplicated: list[str] = []  # header names given twice or more
        self.nul_cells: Counter = Counter()  # column -> cells whose NUL bytes were removed

    def has_column(self, column: str) -> bool:
        return column in self.columns

    @abc.abstractmethod
    def records(self) -> Iterator[tuple[int, dict | None, str | None]]:
        """(1-based data row number, record, None) for every record of the file, or (number, None, reason)
        for one to quarantine."""

    def rows(self) -> Iterator[tuple[int, dict]]:
        """(number, record) for every record that is not to be quarantined."""
        for number, row, _ in self.records():
            if row is not None:
                yield number, row


class CsvReader(Reader):
    def __init__(self, mapping: Mapping, path: Path):
        super().__init__(mapping, path)
        opts = mapping.csv_options
        self.file = readers.CsvFile(path, opts["encoding"], opts["delimiter"])
        self.columns = self.file.header
        self.duplicated = self.file.duplicated
        self.nul_cells = self.file.nul_cells  # the same Counter: the file counts while rows are read

    def records(self):
        header = self.columns
        for number, _line, cells, reason in self.file.rows():
            yield number, (dict(zip(header, cells, strict=False)) if cells is not None else None), reason


_LONE_SURROGATE = re.compile(r"\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])|(?<!\\ud[89ab][0-9a-f]{2})\\ud[c-f][0-9a-f]{2}")


def _longest_string(value) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max([len(str(k)) for k in value] + [_longest_string(v) for v in value.values()], default=0)
    if isinstance(value, list):
        return max((_longest_string(v) for v in value), default=0)
    return 0


def _checked_record(row: dict, nul_cells: Counter) -> tuple[dict | None, str | None]:
    """A JSON or XLSX record as PostgreSQL can store it: NUL bytes removed (counted per top-level key);
    (None, reason) for one to quarantine: a value over MAX_CELL_CHARS, NaN or infinity, a lone surrogate,
    nesting too deep to encode."""
    try:
        encoded = json.dumps(row, allow_nan=False, default=str)
        if "\\u0000" in encoded:
            cleaned: Counter = Counter()
            row = {without_nul(k, cleaned, str(k)): without_nul(v, cleaned, str(k)) for k, v in row.items()}
            nul_cells.update(cleaned)
        if len(encoded) > readers.MAX_CELL_CHARS and _longest_string(row) > readers.MAX_CELL_CHARS:
            return None, f"a value is over {readers.MAX_CELL_CHARS // 1024} KiB"
    except ValueError:
        return None, "a number is NaN or infinity, which JSON cannot hold"
    except RecursionError:
        return None, "nested too deeply to store"
    if "\\ud" in encoded and _LONE_SURROGATE.search(encoded):  # likely; encoding it tells for sure
        try:
            json.dumps(row, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return None, "a string holds a lone UTF-16 surrogate (not a character)"
    return row, None


class JsonReader(Reader):
    """A JSON document (records at the dotted path `records`) or JSON lines (one record a line).

    A JSON document that is not valid JSON, or nested too deeply to read, is refused in one line. In JSON
    lines each line is a record of its own: a line that is not valid JSON or is nested too deeply is
    quarantined with the reason (the other lines load); bytes that are not UTF-8 refuse the file."""

    def __init__(self, mapping: Mapping, path: Path):
        super().__init__(mapping, path)
        self.sample = [row for _, (_, row, _) in zip(range(200), self.records(), strict=False) if row is not None]
        self.columns = list(dict.fromkeys(key for row in self.sample for key in row))

    def has_column(self, column: str) -> bool:
        return any(_lookup(row, column) is not None for row in self.sample)

    def _lines(self):
        """(record or None, reason) for each non-blank line of a JSON-lines file."""
        offset = 0
        with self.path.open("rb") as handle:
            for line_number, raw in enumerate(handle, start=1):
                start, offset = offset, offset + len(raw)
                try:
                    text = raw.decode("utf-8-sig" if line_number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise MappingError(
                        f"{self.path}: line {line_number} (byte {start + exc.start}): not valid UTF-8: {exc.reason}"
                    ) from None
                if not text.strip():
                    continue
                try:
                    yield readers.json_loads(text.rstrip("\r\n"), f"line {line_number}"), None
                except MappingError as exc:
                    yield None, str(exc)

    def _records(self):
        if self.mapping.format == "jsonl":
            yield from self._lines()
            return
        document = readers.json_loads(self.path.read_bytes(), str(self.path))
        records = _lookup(document, self.mapping.records) if self.mapping.records else document
        if not isinstance(records, list):
            raise MappingError(
                f"{self.mapping.path}: records {self.mapping.records!r} does not lead to a list in {self.path}"
            )
        for record in records:
            yield record, None

    def records(self):
        self.nul_cells = Counter()  # counted again on each pass (the sample reads the first records)
        for number, (record, reason) in enumerate(self._records(), start=1):
            if reason is not None:
                yield number, None, reason
                continue
            row, reason = _checked_record(record if isinstance(record, dict) else {"value": record}, self.nul_cells)
            yield number, row, reason


class XlsxReader(Reader):
    def __init__(self, mapping: Mapping, path: Path):
        super().__init__(mapping, path)
        rows = self._sheet_rows()
        try:
            header = next(rows, ())
        finally:
            rows.close()
        self.columns = [str(c).replace("\x00", "") for c in header if c is not None]
        self.duplicated = sorted(name for name, n in Counter(self.columns).items() if n > 1)

    def _sheet_rows(self):
        return readers.xlsx_rows(self.path, self.mapping.sheet, self.mapping.path)

    def records(self):
        self.nul_cells = Counter()
        rows = self._sheet_rows()
        header = list(next(rows, ()))
        while header and header[-1] is None:  # a read-only sheet pads every row to its widest one
            header.pop()
        header = [str(c).replace("\x00", "") if c is not None else "" for c in header]
        width = len(header)
        for number, values in enumerate(rows, start=1):
            if all(v is None for v in values):
                continue
            if len(values) > width and any(v is not None for v in values[width:]):
                yield number, None, f"a value beyond the header's {width} columns"
                continue
            row = {h: ("" if v is None else str(v)) for h, v in zip(header, values, strict=False)}
            row, reason = _checked_record(row, self.nul_cells)
            yield number, row, reason


READERS = {"csv": CsvReader, "json": JsonReader, "jsonl": JsonReader, "xlsx": XlsxReader}


def open_reader(mapping: Mapping, path: Path) -> Reader:
    """Open the data file and check every column the mapping names; fail before anything loads."""
    if not path.is_file():
        raise MappingError(f"{path}: data file not found")
    try:
        reader = READERS[mapping.format](mapping, path)
    except OSError as exc:
        raise MappingError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    used: list[tuple[str, str]] = []  # (field, column)
    for rule in mapping.fields:
        for column in ([rule.column] if rule.column else []) + rule.columns:
            if not reader.has_column(column):
                raise MappingError(f"{mapping.path}: field '{rule.name}': column '{column}' not found in {path}")
            used.append((rule.name, column))
        if rule.columns_matching is not None:
            rule.matched_columns = list(dict.fromkeys(c for c in reader.columns if rule.columns_matching.search(c)))
            if not rule.matched_columns:
                raise MappingError(
                    f"{mapping.path}: field '{rule.name}': columns_matching '{rule.columns_matching.pattern}' "
                    f"matches no column in {path}"
                )
            used.extend((rule.name, c) for c in rule.matched_columns)
    if mapping.id_column:
        if not reader.has_column(mapping.id_column):
            raise MappingError(f"{mapping.path}: field 'id': column '{mapping.id_column}' not found in {path}")
        used.append(("id", mapping.id_column))
    duplicated = set(reader.duplicated)
    for name, column in used:
        if column in duplicated:
            raise MappingError(
                f"{mapping.path}: field '{name}': column '{column}' appears more than once in the header of {path}"
                " (which one is meant?)"
            )
    return reader


# --- applying the rules ---------------------------------------------------------------------------------


class RowMapper:
    """Turns one source row into canonical fields; counts values that `map`/`parse` do not cover.

    Each rule is compiled once into a function of the row. A cell of a rule that maps, parses or splits
    is converted once per distinct value (statuses, scopes, dates and topic lists repeat row after row):
    a bounded cache per rule keeps the result and the unmapped values to count again on each hit.
    """

    CACHE_ENTRIES = 4096  # per rule; after that, further distinct values are converted without caching
    CACHE_MAX_CHARS = 200  # longer cells (descriptions) rarely repeat

    def __init__(self, mapping: Mapping):
        self.mapping = mapping
        self.unmapped: Counter[tuple[str, str]] = Counter()
        self._steps = [(rule.name, rule.pii, self._compile(rule)) for rule in mapping.fields]

    # --- the general path: any cell (JSON lists, numbers, nested values) --------------------------------

    def _cells(self, rule: FieldRule, row: dict) -> list:
        if rule.column:
            cells = [_lookup(row, rule.column)]
        else:
            cells = [_lookup(row, c) for c in rule.columns]
        values = []
        for cell in cells:
            if isinstance(cell, list):
                values.extend(cell)
            elif isinstance(cell, str) and rule.split:
                values.extend(cell.split(rule.split))
            else:
                values.append(cell)
        return [v.strip() if isinstance(v, str) else v for v in values if not is_placeholder(v)]

    def _convert(self, rule: FieldRule, value):
        if isinstance(value, (dict, list)):
            return value
        if rule.map is not None:
            key = normalise_key(str(value))
            if key in rule.map:
                return rule.map[key]
            self.unmapped[(rule.name, str(value))] += 1
            return value  # kept, and counted so analysts can extend the map
        if rule.parse:
            try:
                return PARSERS[rule.parse](str(value))
            except ValueError:
                self.unmapped[(rule.name, str(value))] += 1
                return None
        return value

    def _general(self, rule: FieldRule, row: dict):
        converted = [self._convert(rule, v) for v in self._cells(rule, row)]
        converted = list(dict.fromkeys(c for c in converted if c is not None and (rule.parse or not is_placeholder(c))))
        many = bool(rule.columns or rule.split) or any(isinstance(c, list) for c in converted)
        return converted if many else (converted[0] if converted else None)

    def _matching(self, rule: FieldRule, row: dict) -> list[dict]:
        """columns_matching: one {tag, value} per matched column with a value (`values` maps the cells)."""
        tags = []
        for column in rule.matched_columns:
            cell = _lookup(row, column)
            if is_placeholder(cell):
                continue
            cell = str(cell).strip()
            match = rule.columns_matching.search(column)
            tag = match.group(1) if match.groups() else column
            if rule.values is None:
                tags.append({"tag": tag, "value": cell})
            elif cell not in rule.values:
                self.unmapped[(rule.name, f"{column}={cell}")] += 1
            elif rule.values[cell] is not None:
                tags.append({"tag": tag, "value": rule.values[cell]})
        return tags

    # --- compiled rules: the same results as `_general` for text cells, the common case ------------------

    def _text_cell(self, rule: FieldRule):
        """A function of one text cell: (converted values, unmapped keys, whether a value is a list), as
        `_cells` + `_convert` give them for that cell; cached per distinct cell (bounded)."""
        name, split, value_map = rule.name, rule.split, rule.map
        parser = PARSERS[rule.parse] if rule.parse else None

        def convert(cell: str):
            out, missed = [], []
            for part in cell.split(split) if split else (cell,):
                if is_placeholder(part):
                    continue
                part = part.strip()
                if value_map is not None:
                    key = normalise_key(part)
                    if key in value_map:
                        part = value_map[key]
                    else:
                        missed.append((name, part))
                elif parser is not None:
                    try:
                        part = parser(part)
                    except ValueError:
                        missed.append((name, part))
                        continue
                # a parser's value is meant (data_access `none`); a mapped one may be a placeholder (`unknown`)
                if part is None or (parser is None and is_placeholder(part)):
                    continue
                out.append(part)
            return tuple(out), tuple(missed), any(isinstance(v, list) for v in out)

        cache: dict[str, tuple] = {}
        limit, max_chars = self.CACHE_ENTRIES, self.CACHE_MAX_CHARS

        def cached(cell: str):
            hit = cache.get(cell)
            if hit is None:
                hit = convert(cell)
                if len(cache) < limit and len(cell) <= max_chars:
                    cache[cell] = hit
            return hit

        return cached

    def _compile(self, rule: FieldRule):
        if rule.kind == "value":
            constant = rule.value
            return lambda row: constant
        if rule.kind == "columns_matching":
            return lambda row: self._matching(rule, row)
        general, unmapped = self._general, self.unmapped
        columns = [rule.column] if rule.column else list(rule.columns)
        if not (rule.columns or rule.split or rule.map is not None or rule.parse):
            column = columns[0]

            def plain(row: dict):  # one column as it is: the cell, stripped, unless a placeholder
                cell = row[column] if column in row else _lookup(row, column)
                if type(cell) is str:
                    return None if is_placeholder(cell) else cell.strip()
                return general(rule, row)

            return plain
        text_cell = self._text_cell(rule)
        if not (rule.columns or rule.split):
            column = columns[0]

            def single(row: dict):  # one column, one value: mapped or parsed
                cell = row[column] if column in row else _lookup(row, column)
                if type(cell) is not str:
                    return general(rule, row)
                out, missed, has_list = text_cell(cell)
                if has_list:  # a map to lists: the general path decides the shape
                    return general(rule, row)
                for key in missed:
                    unmapped[key] += 1
                return out[0] if out else None

            return single

        def many(row: dict):  # several columns or a split: a list without repeats
            hits = []
            for column in columns:
                cell = row[column] if column in row else _lookup(row, column)
                if type(cell) is str:
                    hits.append(text_cell(cell))
                elif cell is not None:
                    return general(rule, row)
            values: list = []
            for out, missed, _ in hits:
                values.extend(out)
                for key in missed:
                    unmapped[key] += 1
            return list(dict.fromkeys(values))

        return many

    def apply(self, row: dict) -> tuple[dict, dict]:
        record, pii = {}, {}
        for name, is_pii, step in self._steps:
            (pii if is_pii else record)[name] = step(row)
        return record, pii


def json_bytes(value) -> bytes:
    """JSON of a record: orjson (compact, about 5 times faster than json.dumps), with json.dumps' values for
    what orjson refuses or writes otherwise: integers over 64 bits, non-string keys (json.dumps), dates and
    times (str(), as before; XLSX cells)."""
    try:
        return orjson.dumps(value, default=str, option=orjson.OPT_PASSTHROUGH_DATETIME)
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, default=str).encode()


def _map_records(mapping: Mapping, records, mapper: RowMapper) -> Iterator[tuple]:
    """Load.run's rows of read records (number, row or None, reason): (number, values or None, reason,
    field, raw value). Nothing is kept per row: duplicate ids are left to the database (RawTable's
    duplicate_key). A row the reader quarantines (field count, oversized cell, malformed quote) keeps no raw
    value: it may hold personal data."""
    source, id_column = mapping.source, mapping.id_column
    for number, row, reason in records:
        if row is None:
            yield number, None, reason, None, None
            continue
        record, pii = mapper.apply(row)
        record_id = str(number) if not id_column else _lookup(row, id_column)
        if is_placeholder(record_id):
            yield number, None, f"the id column '{id_column}' is empty", id_column, None
        elif not record.get("title"):
            yield number, None, "title is empty", "title", None
        else:
            # JSON encoded here, sent as it is by the binary COPY (see loading.RawTable)
            try:
                values = (source, str(record_id).strip(), json_bytes(record), json_bytes(pii) if pii else None,
                          json_bytes(row))  # fmt: skip
            except RecursionError:  # a JSON record just under the reader's depth limit
                yield number, None, "nested too deeply to store", None, None
                continue
            yield number, values, None, None, None


def mapped_rows(mapping: Mapping, reader: Reader, mapper: RowMapper) -> Iterator[tuple]:
    """_map_records of every record of the file, then the reader's NUL removals in the mapper's unmapped values."""
    yield from _map_records(mapping, reader.records(), mapper)
    _count_nul_cells(reader, mapper.unmapped)


def _count_nul_cells(reader: Reader, unmapped: Counter) -> None:
    """The cells whose NUL bytes the reader removed, as unmapped values (column, NUL_REMOVED)."""
    for column, n in reader.nul_cells.items():
        unmapped[(column, readers.NUL_REMOVED)] += n


RECORDS_TABLE = RawTable(
    "raw.catalogue_record",
    ("source_system", "source_record_id", "record", "pii", "source_data"),
    column_types=("text", "text", "jsonb", "jsonb", "json"),  # binary COPY
    duplicate_key="source_record_id",
)

# Rows are independent: the rows of a large CSV export can be mapped by worker processes while this process
# reads the file and COPYs. Below this size a pool costs more than it saves; and it needs more than two cores,
# for this process and the server's take two (measured at 10^5 rows on 2 cores: 0.29 of a CSV COPY without
# workers, 0.22 with two).
PARALLEL_FROM_BYTES = 8 << 20
MIN_CORES_FOR_WORKERS = 4
WORKERS = 2
BATCH_ROWS = 1000

_worker_mapper: RowMapper | None = None


def _start_worker(mapping: Mapping) -> None:
    global _worker_mapper
    _worker_mapper = RowMapper(mapping)


def _map_batch(records: list[tuple]) -> tuple[list[tuple], Counter]:
    """In a worker: the rows of a batch of read records, and the unmapped values they added."""
    mapper = _worker_mapper
    rows = list(_map_records(mapper.mapping, records, mapper))
    counts = Counter(mapper.unmapped)
    mapper.unmapped.clear()  # in place: the mapper's cached rules count into this Counter
    return rows, counts


def _in_workers(mapping: Mapping, reader: Reader, workers: int, unmapped: Counter) -> Iterator[tuple]:
    """_map_records of the whole file in file order, mapped by `workers` processes; the unmapped values they
    count, and the reader's NUL removals, are added to `unmapped`."""
    batches = pool.batched(reader.records(), BATCH_ROWS)
    for rows, counts in pool.ordered_map(_map_batch, batches, workers, _start_worker, (mapping,)):
        unmapped.update(counts)
        yield from rows
    _count_nul_cells(reader, unmapped)


def load_catalogue(
    mapping_path: str | Path, data_path: str | Path, wh=None, progress=None, workers: int | None = None
) -> LoadResult:
    """Load one catalogue export through its mapping; a second load of the same content is a no-op.

    `workers`: processes that map the rows of a CSV export; by default WORKERS for files of
    PARALLEL_FROM_BYTES or more on a machine of MIN_CORES_FOR_WORKERS cores or more, none (this process) for
    smaller files, on fewer cores, for other formats and in a daemonic process. The loaded rows are the same
    either way.
    """
    mapping = Mapping.load(mapping_path)
    data_path = Path(data_path)
    reader = open_reader(mapping, data_path)  # fails here, before anything loads, on a column not found
    if workers is None:
        many_cores = (os.cpu_count() or 1) >= MIN_CORES_FOR_WORKERS
        workers = pool.default_workers(data_path.stat().st_size, PARALLEL_FROM_BYTES, WORKERS) if many_cores else 0
    if mapping.format != "csv" or multiprocessing.current_process().daemon:  # a daemon may not start processes
        workers = 0
    unmapped: Counter = Counter()
    if workers > 0:
        rows = _in_workers(mapping, reader, workers, unmapped)
    else:
        mapper = RowMapper(mapping)
        unmapped = mapper.unmapped
        rows = mapped_rows(mapping, reader, mapper)
    load = Load("catalogue", mapping.source, mapping.sha256, path=data_path, snapshot=True)
    return load.run(RECORDS_TABLE, rows, unmapped=unmapped, wh=wh, progress=progress)


DATA_SUFFIXES = {".csv", ".json", ".jsonl", ".xlsx"}


def load_catalogue_inbox(wh: warehouse.Warehouse | None = None, inbox: Path | None = None) -> list[LoadResult]:
    """Load every file in `<inbox>/catalogues/` through the mapping named like it (catalogues/<source>.yml)."""
    wh = wh or warehouse.current()
    warehouse.migrate(wh)
    folder = (inbox or config.inbox()) / "catalogues"
    results = load_inbox_folder(
        folder, config.project_dir() / "catalogues", DATA_SUFFIXES, lambda m, f: load_catalogue(m, f, wh), "mapping"
    )
    if not results:
        raise CstrackError(f"no catalogue files in {folder}")
    return results

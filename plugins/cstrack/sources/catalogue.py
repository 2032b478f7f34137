"""Catalogue exports loaded through declarative mappings (DESIGN.md §6.1).

A mapping (`catalogues/<source>.yml`) names, for each canonical field, the column(s) of the export
and the rules that turn cells into canonical values. The mapping is validated against the contract
and against the file's columns before a single row loads; rows then stream into
`raw.catalogue_record` through COPY, rejected rows into `ops.quarantine`.
"""

from __future__ import annotations

import abc
import csv
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

from cstrack.errors import MappingError
from cstrack.loading import LoadResult, record_load
from cstrack.sources.parsing import PARSERS, is_placeholder, normalise_key

CANONICAL_FIELDS = {
    "title", "aim", "description", "url", "status", "start_date", "end_date", "countries",
    "geographic_extent", "latitude", "longitude", "language", "topics", "sdgs", "participation_tasks",
    "lead_organisation", "organisation_type", "funding", "participants_active", "participants_registered",
    "keywords", "contact",
}  # fmt: skip
SOURCE_RULES = ("column", "columns", "columns_matching", "value")
MODIFIERS = {"map", "split", "parse", "pii", "values"}
TOP_LEVEL = {"source", "title", "licence", "credit", "format", "csv", "records", "id", "fields", "sheet", "description"}
FORMATS = {"csv", "json", "jsonl", "xlsx"}


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
    def load(cls, path: str | Path) -> "Mapping":
        path = Path(path)
        where = str(path)
        if not path.is_file():
            raise MappingError(f"{where}: mapping file not found")
        raw = path.read_bytes()
        try:
            spec = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            raise MappingError(f"{where}: not valid YAML: {str(exc).splitlines()[0]}") from None
        if not isinstance(spec, dict):
            raise MappingError(f"{where}: a mapping is a YAML object with `source`, `format` and `fields`")
        unknown = set(spec) - TOP_LEVEL
        if unknown:
            raise MappingError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(TOP_LEVEL)}")
        for key in ("source", "format", "fields"):
            if key not in spec:
                raise MappingError(f"{where}: missing required key `{key}`")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(spec["source"])):
            raise MappingError(f"{where}: source {spec['source']!r} must be lower_snake_case")
        if spec["format"] not in FORMATS:
            raise MappingError(f"{where}: format {spec['format']!r} is not one of {sorted(FORMATS)}")
        if not isinstance(spec["fields"], dict) or "title" not in spec["fields"]:
            raise MappingError(f"{where}: `fields` must be an object and map at least `title`")
        rules = [_field_rule(where, name, rule) for name, rule in spec["fields"].items()]
        return cls(
            path=path,
            source=spec["source"],
            format=spec["format"],
            fields=rules,
            id_column=spec.get("id"),
            csv_options={"delimiter": ",", "encoding": "utf-8-sig", **(spec.get("csv") or {})},
            records=spec.get("records"),
            sheet=spec.get("sheet", 0),
            sha256=hashlib.sha256(raw).hexdigest(),
            credit=spec.get("credit") or f"{spec.get('title', spec['source'])} ({spec.get('licence', 'licence not stated')})",
        )


def _field_rule(where: str, name: str, rule: Any) -> FieldRule:
    if name not in CANONICAL_FIELDS:
        raise MappingError(f"{where}: field '{name}' is not a canonical field; known: {', '.join(sorted(CANONICAL_FIELDS))}")
    if isinstance(rule, str):
        return FieldRule(name=name, kind="column", column=rule)
    if not isinstance(rule, dict):
        raise MappingError(f"{where}: field '{name}': a rule is a column name or an object")
    sources = [key for key in SOURCE_RULES if key in rule]
    if len(sources) != 1:
        raise MappingError(f"{where}: field '{name}': give exactly one of {', '.join(SOURCE_RULES)}")
    unknown = set(rule) - set(SOURCE_RULES) - MODIFIERS
    if unknown:
        raise MappingError(f"{where}: field '{name}': unknown rule(s) {sorted(unknown)}")
    if "parse" in rule and rule["parse"] not in PARSERS:
        raise MappingError(f"{where}: field '{name}': parse {rule['parse']!r} is not one of {', '.join(PARSERS)}")
    if "map" in rule and not isinstance(rule["map"], dict):
        raise MappingError(f"{where}: field '{name}': `map` must be an object of value: canonical value")
    pattern = None
    if "columns_matching" in rule:
        try:
            pattern = re.compile(rule["columns_matching"])
        except re.error as exc:
            raise MappingError(f"{where}: field '{name}': columns_matching is not a valid regex: {exc}") from None
    columns = rule.get("columns") or []
    if "columns" in rule and (not isinstance(columns, list) or not columns):
        raise MappingError(f"{where}: field '{name}': `columns` must be a non-empty list")
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


# --- readers: each yields (row_number, {column: value}) and knows the available columns --------------


def _lookup(row: dict, column: str):
    """A column by name, or for nested records a dotted path such as `contactPoint.email`."""
    if column in row:
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

    def has_column(self, column: str) -> bool:
        return column in self.columns

    @abc.abstractmethod
    def rows(self) -> Iterator[tuple[int, dict]]:
        """(1-based data row number, record) for every record of the file."""


class CsvReader(Reader):
    def __init__(self, mapping: Mapping, path: Path):
        super().__init__(mapping, path)
        opts = mapping.csv_options
        try:
            with path.open(encoding=opts["encoding"], newline="") as handle:
                header = next(csv.reader(handle, delimiter=opts["delimiter"]), [])
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc, "the header") from None
        self.columns = header

    def _decode_error(self, exc: UnicodeDecodeError, where: str) -> MappingError:
        return MappingError(f"{self.path}: not valid {self.mapping.csv_options['encoding']} in {where}: {exc.reason}")

    def rows(self):
        opts = self.mapping.csv_options
        number = 0
        try:
            with self.path.open(encoding=opts["encoding"], newline="") as handle:
                for number, row in enumerate(csv.DictReader(handle, delimiter=opts["delimiter"]), start=1):
                    yield number, row
        except UnicodeDecodeError as exc:
            raise self._decode_error(exc, f"the data after row {number}") from None


class JsonReader(Reader):
    """A JSON document (records at the dotted path `records`) or JSON lines (one record a line)."""

    def __init__(self, mapping: Mapping, path: Path):
        super().__init__(mapping, path)
        self.sample = [record for _, (_, record) in zip(range(200), self.rows())]
        self.columns = list(dict.fromkeys(key for row in self.sample for key in row))

    def has_column(self, column: str) -> bool:
        return any(_lookup(row, column) is not None for row in self.sample)

    def _records(self):
        if self.mapping.format == "jsonl":
            with self.path.open(encoding="utf-8") as handle:
                for line_number, line in enumerate(handle, start=1):
                    if line.strip():
                        try:
                            yield json.loads(line)
                        except json.JSONDecodeError as exc:
                            raise MappingError(f"{self.path}: line {line_number}: not valid JSON: {exc.msg}") from None
            return
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise MappingError(f"{self.path}: not valid JSON at line {exc.lineno}: {exc.msg}") from None
        records = _lookup(document, self.mapping.records) if self.mapping.records else document
        if not isinstance(records, list):
            raise MappingError(
                f"{self.mapping.path}: records {self.mapping.records!r} does not lead to a list in {self.path}"
            )
        yield from records

    def rows(self):
        for number, record in enumerate(self._records(), start=1):
            yield number, record if isinstance(record, dict) else {"value": record}


class XlsxReader(Reader):
    def __init__(self, mapping: Mapping, path: Path):
        super().__init__(mapping, path)
        header = next(self._sheet_rows(), ())
        self.columns = [str(c) for c in header if c is not None]

    def _sheet_rows(self):
        import openpyxl

        book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        sheet = book.worksheets[self.mapping.sheet] if isinstance(self.mapping.sheet, int) else book[self.mapping.sheet]
        try:
            yield from sheet.iter_rows(values_only=True)
        finally:
            book.close()

    def rows(self):
        rows = self._sheet_rows()
        header = [str(c) if c is not None else "" for c in next(rows, ())]
        for number, values in enumerate(rows, start=1):
            if all(v is None for v in values):
                continue
            yield number, {h: ("" if v is None else str(v)) for h, v in zip(header, values)}


READERS = {"csv": CsvReader, "json": JsonReader, "jsonl": JsonReader, "xlsx": XlsxReader}


def open_reader(mapping: Mapping, path: Path) -> Reader:
    """Open the data file and check every column the mapping names; fail before anything loads."""
    if not path.is_file():
        raise MappingError(f"{path}: data file not found")
    reader = READERS[mapping.format](mapping, path)
    for rule in mapping.fields:
        for column in ([rule.column] if rule.column else []) + rule.columns:
            if not reader.has_column(column):
                raise MappingError(f"{mapping.path}: field '{rule.name}': column '{column}' not found in {path}")
        if rule.columns_matching is not None:
            rule.matched_columns = [c for c in reader.columns if rule.columns_matching.search(c)]
            if not rule.matched_columns:
                raise MappingError(
                    f"{mapping.path}: field '{rule.name}': columns_matching '{rule.columns_matching.pattern}' "
                    f"matches no column in {path}"
                )
    if mapping.id_column and not reader.has_column(mapping.id_column):
        raise MappingError(f"{mapping.path}: field 'id': column '{mapping.id_column}' not found in {path}")
    return reader


# --- applying the rules ---------------------------------------------------------------------------------


class RowMapper:
    """Turns one source row into canonical fields; counts values that `map`/`parse` do not cover."""

    def __init__(self, mapping: Mapping):
        self.mapping = mapping
        self.unmapped: Counter[tuple[str, str]] = Counter()

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

    def apply(self, row: dict) -> tuple[dict, dict]:
        record, pii = {}, {}
        for rule in self.mapping.fields:
            if rule.kind == "value":
                value = rule.value
            elif rule.kind == "columns_matching":
                value = self._matching(rule, row)
            else:
                converted = [self._convert(rule, v) for v in self._cells(rule, row)]
                converted = list(dict.fromkeys(c for c in converted if c is not None and not is_placeholder(c)))
                many = bool(rule.columns or rule.split) or any(isinstance(c, list) for c in converted)
                value = converted if many else (converted[0] if converted else None)
            (pii if rule.pii else record)[rule.name] = value
        return record, pii


def _jsonable(row: dict) -> dict:
    return json.loads(json.dumps(row, default=str))


def load_catalogue(mapping_path: str | Path, data_path: str | Path, wh=None, progress=None) -> LoadResult:
    """Load one catalogue export through its mapping; a second load of the same content is a no-op."""
    mapping = Mapping.load(mapping_path)
    data_path = Path(data_path)
    reader = open_reader(mapping, data_path)
    mapper = RowMapper(mapping)

    def rows():
        seen: dict[str, int] = {}
        for number, row in reader.rows():
            record, pii = mapper.apply(row)
            record_id = str(number) if not mapping.id_column else _lookup(row, mapping.id_column)
            if is_placeholder(record_id):
                yield number, None, f"the id column '{mapping.id_column}' is empty", mapping.id_column, None
            elif str(record_id).strip() in seen:
                record_id = str(record_id).strip()
                yield number, None, f"duplicate id {record_id!r} (first at row {seen[record_id]})", "id", record_id
            elif not record.get("title"):
                yield number, None, "title is empty", "title", None
            else:
                record_id = str(record_id).strip()
                seen[record_id] = number
                source_row = row if mapping.format == "csv" else _jsonable(row)  # CSV cells are str already
                yield number, (record_id, record, pii or None, source_row), None, None, None

    return record_load(
        kind="catalogue",
        source_system=mapping.source,
        path=data_path,
        definition_hash=mapping.sha256,
        table="raw.catalogue_record",
        columns=("source_system", "source_record_id", "record", "pii", "source_data"),
        rows=rows(),
        to_values=lambda values: (mapping.source, values[0], json.dumps(values[1]), _json_or_none(values[2]), json.dumps(values[3])),
        unmapped=mapper.unmapped,
        snapshot=True,
        wh=wh,
        progress=progress,
    )


def _json_or_none(value):
    return None if value is None else json.dumps(value)

"""Survey exports (CSV, XLSX, SPSS .sav) loaded through a codebook (docs/design-notes.md §6.3).

A codebook (`surveys/<codebook>.yml`) names, for each Likert item, its column (exactly, or by a
prefix of the long question header), its scale, its construct and whether it is reverse-coded; and
how to read consent, the respondent id, the submission time, the respondent's attributes (any
lower_snake_case name: gender, age_band, country, project, language, education, ...) and free-text
questions. It is read without YAML aliases, checked by type against
schemas/survey_codebook.schema.json, then against the contract and the file's header before anything
loads.

Attributes: a constant (`value`), a column with a `map` (answer -> category) or `parse`
(country, language), or a column with neither: an open answer, published by dbt only as the
categories held by at least 5 respondents of the survey and wave (rarer answers become `other`).

Files are read strictly (cstrack.ingest.readers): a CSV row whose field count differs from the
header's, or that is not valid CSV, is quarantined (each of its answer cells, with the reason); an
unterminated quote, a byte not of the encoding, a workbook that is not one or a missing sheet is a
one-line error naming the row (or sheet); NUL bytes are removed and counted in ops.unmapped_values;
a column the codebook reads that appears twice in the header is refused.

What a load writes (one transaction, through `loading.Load`):
- `raw.survey_answer`: one row per answer cell (respondent x item) of a consenting respondent, the
  value as answered (null when not answered). The answer cell is the unit of reconciliation:
  rows read = cells of the file (data rows x items) = loaded + quarantined. A cell that is out of
  its scale or not a number is quarantined alone; every cell of a row without consent (or with an
  empty or duplicate respondent id) is quarantined with that reason, and nothing else of that row
  is kept.
- `raw.survey_respondent`: one row per consenting respondent: `attributes` holds every attribute's
  category (mapped, parsed or constant; the five classic ones also in their own columns),
  `attributes_open` the open answers (whitespace collapsed) that dbt publishes only as categories
  held by at least 5 respondents; the raw strings stay in `attributes_raw`; values a `map`/`parse`
  does not cover are counted in `ops.unmapped_values` and become null.
- `raw.survey_item`: the codebook's items, scales and constructs as this load applied them.
- `raw.survey_free_text`: free-text answers, in a table only the loader can read.
Respondent ids (or, without an id column, the row number) are pseudonymised with a keyed hash.
"""

from __future__ import annotations

import abc
import difflib
import hashlib
import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cstrack import config, specs, warehouse
from cstrack.errors import MappingError
from cstrack.ingest.loading import Load, LoadResult, RawTable, load_inbox_folder
from cstrack.ingest.parsing import PARSERS, collapse_whitespace, is_placeholder, normalise_key
from cstrack.ingest.readers import NUL_REMOVED, CsvFile, xlsx_rows
from cstrack.privacy import pseudonymise

TOP_LEVEL = {
    "survey", "wave", "title", "description", "format", "sheet", "csv", "respondent_id", "submitted_at",
    "consent", "context", "demographics", "scales", "items", "constructs", "free_text",
}  # fmt: skip
FORMATS = {"csv", "xlsx", "sav"}
SCHEMA = "survey_codebook.schema.json"
# the classic attributes, also kept in their own columns of raw.survey_respondent and the marts; a
# codebook may name any other attribute (education, occupation, ...): it lands in `attributes`
ATTRIBUTES = ("language", "gender", "age_band", "country", "project")
ATTRIBUTE_PARSERS = {"country": PARSERS["country"], "language": PARSERS["language"]}
ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
RESERVED_ATTRIBUTES = {"overall"}  # the marts' dimension of all respondents
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
DATA_SUFFIXES = {".csv", ".xlsx", ".sav"}


def _fail(where: str, message: str) -> MappingError:
    return MappingError(f"{where}: {message}")


@dataclass
class ColumnRef:
    """A column named exactly (`column`) or by the start of its header (`column_prefix`)."""

    column: str | None = None
    prefix: str | None = None
    resolved: str | None = None  # the data file's column, set by open_reader

    def describe(self) -> str:
        return f"column {self.column!r}" if self.column is not None else f"column_prefix {self.prefix!r}"


@dataclass
class Attribute:
    name: str
    ref: ColumnRef | None = None
    value: Any = None  # a constant (context), when ref is None
    map: dict[str, Any] | None = None
    parse: str | None = None

    @property
    def open(self) -> bool:
        """A column read as answered (no map, no parse): published only as categories of >= 5 respondents."""
        return self.ref is not None and self.map is None and self.parse is None


@dataclass
class Scale:
    name: str
    min: float
    max: float
    integer: bool = True
    missing: frozenset = frozenset()  # codes meaning "no answer", e.g. 99 = don't know


@dataclass
class Construct:
    name: str
    label: str
    min_share_answered: float


@dataclass
class Item:
    code: str
    ref: ColumnRef
    scale: Scale
    construct: Construct
    reverse: bool


@dataclass
class Codebook:
    path: Path
    name: str  # the file stem: source_system of its loads, and the inbox's file-name prefix
    survey: str
    wave: str
    format: str
    sheet: int | str
    csv_options: dict[str, str]
    respondent_id: ColumnRef | None
    submitted_at: ColumnRef | None
    consent: ColumnRef | None
    consent_values: set[str]
    attributes: list[Attribute]
    items: list[Item]
    constructs: dict[str, Construct]
    free_text: list[ColumnRef]
    sha256: str

    @classmethod
    def load(cls, path: str | Path) -> Codebook:
        path = Path(path)
        where = str(path)
        if not path.is_file():
            raise _fail(where, "codebook file not found")
        spec, raw = specs.read_yaml(path)  # aliases refused: a "billion laughs" codebook is one line
        if not isinstance(spec, dict):
            raise _fail(
                where, "a codebook is a YAML object with `survey`, `wave`, `format`, `scales`, `items`, `constructs`"
            )
        unknown = set(spec) - TOP_LEVEL
        if unknown:
            raise _fail(where, f"unknown key(s) {sorted(map(str, unknown))}; allowed: {sorted(TOP_LEVEL)}")
        for key in ("survey", "wave", "format", "scales", "items", "constructs"):
            if spec.get(key) in (None, "", {}):
                raise _fail(where, f"missing required key `{key}`")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", path.stem):
            raise _fail(where, "the codebook's file name must be lower_snake_case (it prefixes its data files)")
        if not isinstance(spec["format"], str) or spec["format"] not in FORMATS:
            raise _fail(where, f"format {spec['format']!r} is not one of {sorted(FORMATS)}")
        specs.validate(spec, SCHEMA, where)  # every key by type: one line naming the key
        csv_options = {"delimiter": ",", "encoding": "utf-8-sig", **(spec.get("csv") or {})}
        specs.check_encoding(csv_options["encoding"], f"{where}: csv.encoding")
        scales = {name: _scale(where, name, rule) for name, rule in _object(where, "scales", spec["scales"]).items()}
        constructs = {
            name: _construct(where, name, rule)
            for name, rule in _object(where, "constructs", spec["constructs"]).items()
        }
        items = [
            _item(where, code, rule, scales, constructs)
            for code, rule in _object(where, "items", spec["items"]).items()
        ]
        empty = sorted(set(constructs) - {i.construct.name for i in items})
        if empty:
            raise _fail(where, f"construct(s) {empty} have no items")
        consent, consent_values = None, set()
        if spec.get("consent") is not None:
            rule = _object(where, "consent", spec["consent"])
            consent = _ref(where, "consent", rule, allowed={"required"})
            required = rule.get("required")
            required = required if isinstance(required, list) else [required]
            if not all(isinstance(v, (str, int)) and str(v).strip() for v in required):
                raise _fail(where, "consent: `required` is the answer (or list of answers) that gives consent")
            consent_values = {normalise_key(str(v)) for v in required}
        attributes = _attributes(where, spec)
        free_text = [_ref(where, f"free_text[{n}]", rule) for n, rule in enumerate(_list(where, spec))]
        return cls(
            path=path,
            name=path.stem,
            survey=str(spec["survey"]),
            wave=str(spec["wave"]),
            format=spec["format"],
            sheet=spec.get("sheet", 0),
            csv_options=csv_options,
            respondent_id=_optional_ref(where, "respondent_id", spec.get("respondent_id")),
            submitted_at=_optional_ref(where, "submitted_at", spec.get("submitted_at"), allowed={"parse"}),
            consent=consent,
            consent_values=consent_values,
            attributes=attributes,
            items=items,
            constructs=constructs,
            free_text=free_text,
            sha256=hashlib.sha256(raw).hexdigest(),
        )


def _object(where: str, key: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise _fail(where, f"`{key}` must be an object")
    return value


def _list(where: str, spec: dict) -> list:
    value = spec.get("free_text") or []
    if not isinstance(value, list):
        raise _fail(where, "`free_text` must be a list of {column: ...} or {column_prefix: ...}")
    return value


def _ref(where: str, what: str, rule: Any, allowed: set[str] = frozenset()) -> ColumnRef:
    if isinstance(rule, str):
        return ColumnRef(column=rule)
    if not isinstance(rule, dict):
        raise _fail(where, f"{what}: give `column` or `column_prefix`")
    sources = [k for k in ("column", "column_prefix") if k in rule]
    if len(sources) != 1 or not isinstance(rule[sources[0]], str) or not rule[sources[0]]:
        raise _fail(where, f"{what}: give exactly one of `column`, `column_prefix` (a non-empty text)")
    unknown = set(rule) - {"column", "column_prefix"} - set(allowed)
    if unknown:
        raise _fail(where, f"{what}: unknown key(s) {sorted(unknown)}")
    return ColumnRef(column=rule.get("column"), prefix=rule.get("column_prefix"))


def _optional_ref(where: str, what: str, rule: Any, allowed: set[str] = frozenset()) -> ColumnRef | None:
    if rule is None:
        return None
    if isinstance(rule, dict) and rule.get("parse", "datetime") != "datetime":
        raise _fail(where, f"{what}: parse {rule['parse']!r} is not supported (datetime)")
    return _ref(where, what, rule, allowed)


def _number(where: str, what: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(where, f"{what} must be a number, not {value!r}")
    return float(value)


def _scale(where: str, name: str, rule: Any) -> Scale:
    rule = _object(where, f"scale '{name}'", rule)
    unknown = set(rule) - {"min", "max", "integer", "missing"}
    if unknown:
        raise _fail(where, f"scale '{name}': unknown key(s) {sorted(unknown)}")
    low, high = (
        _number(where, f"scale '{name}': min", rule.get("min")),
        _number(where, f"scale '{name}': max", rule.get("max")),
    )
    if low >= high:
        raise _fail(where, f"scale '{name}': min {low:g} must be below max {high:g}")
    missing = rule.get("missing") or []
    return Scale(
        name,
        low,
        high,
        bool(rule.get("integer", True)),
        frozenset(_number(where, f"scale '{name}': missing", m) for m in missing),
    )


def _construct(where: str, name: str, rule: Any) -> Construct:
    rule = _object(where, f"construct '{name}'", rule)
    if not NAME.fullmatch(name):
        raise _fail(where, f"construct '{name}': a name is letters, digits and _")
    unknown = set(rule) - {"label", "min_share_answered"}
    if unknown:
        raise _fail(where, f"construct '{name}': unknown key(s) {sorted(unknown)}")
    share = _number(where, f"construct '{name}': min_share_answered", rule.get("min_share_answered", 0.5))
    if not 0 < share <= 1:
        raise _fail(where, f"construct '{name}': min_share_answered must be in (0, 1], not {share:g}")
    return Construct(name, str(rule.get("label") or name), share)


def _item(where: str, code: str, rule: Any, scales: dict, constructs: dict) -> Item:
    rule = _object(where, f"item '{code}'", rule)
    if not NAME.fullmatch(str(code)):
        raise _fail(where, f"item '{code}': an item code is letters, digits and _")
    ref = _ref(where, f"item '{code}'", rule, allowed={"scale", "construct", "reverse"})
    scale, construct = rule.get("scale"), rule.get("construct")
    if scale not in scales:
        raise _fail(where, f"item '{code}': unknown scale {scale!r}; candidates: {', '.join(sorted(scales))}")
    if construct not in constructs:
        raise _fail(
            where, f"item '{code}': unknown construct {construct!r}; candidates: {', '.join(sorted(constructs))}"
        )
    if not isinstance(rule.get("reverse", False), bool):
        raise _fail(where, f"item '{code}': reverse must be true or false")
    return Item(str(code), ref, scales[scale], constructs[construct], rule.get("reverse", False))


def _attributes(where: str, spec: dict) -> list[Attribute]:
    """`context` (constants per file, or columns) and `demographics` (columns): one set of attributes."""
    attributes: dict[str, Attribute] = {}
    for section in ("context", "demographics"):
        for name, rule in _object(where, section, spec.get(section) or {}).items():
            what = f"{section}.{name}"
            if not isinstance(name, str) or not ATTRIBUTE_NAME.fullmatch(name):
                raise _fail(where, f"{what}: an attribute name is lower_snake_case (a-z, 0-9, _), e.g. education")
            if name in RESERVED_ATTRIBUTES:
                raise _fail(where, f"{what}: '{name}' is reserved (the marts' segment of all respondents)")
            if name in attributes:
                raise _fail(where, f"{what}: attribute '{name}' is given twice")
            if not isinstance(rule, dict):
                raise _fail(where, f"{what}: give {{value: ...}}, or a column with `map` or `parse`")
            if "value" in rule:
                if set(rule) != {"value"} or rule["value"] is None:
                    raise _fail(where, f"{what}: `value` is a constant and takes no other key")
                attributes[name] = Attribute(name, value=str(rule["value"]))
                continue
            ref = _ref(where, what, rule, allowed={"map", "parse"})
            if "map" in rule and not isinstance(rule["map"], dict):
                raise _fail(where, f"{what}: `map` must be an object of answer: value")
            if "parse" in rule and rule["parse"] not in ATTRIBUTE_PARSERS:
                raise _fail(where, f"{what}: parse {rule['parse']!r} is not one of {', '.join(ATTRIBUTE_PARSERS)}")
            if "map" in rule and "parse" in rule:
                raise _fail(where, f"{what}: give at most one of `map`, `parse`")
            # neither: an open answer, published only as the categories held by >= 5 respondents (dbt)
            mapping = {
                normalise_key(str(k)): (None if v is None else str(v)) for k, v in (rule.get("map") or {}).items()
            }
            attributes[name] = Attribute(name, ref=ref, map=mapping if "map" in rule else None, parse=rule.get("parse"))
    return list(attributes.values())


# --- readers: the header (with SPSS variable labels) and the data rows as {column: cell} -------------


class Reader(abc.ABC):
    def __init__(self, codebook: Codebook, path: Path):
        self.codebook, self.path = codebook, path
        self.columns: list[str] = []
        self.labels: dict[str, str] = {}  # SPSS variable labels: LimeSurvey puts the question text there
        self.nul_cells: Counter = Counter()  # column -> cells whose NUL bytes were removed

    @property
    def duplicated(self) -> set[str]:
        """Header names that appear more than once (a column the codebook reads must not)."""
        return {name for name, n in Counter(self.columns).items() if n > 1}

    @abc.abstractmethod
    def rows(self) -> Iterator[tuple[int, dict | None, str | None]]:
        """(1-based data row number, {column: cell}, None) for every data row, or (number, None, reason)
        for a row that cannot be read (each of its answer cells is quarantined with the reason)."""


class CsvReader(Reader):
    """A strict CSV reader (readers.CsvFile): a row whose field count differs from the header's, an
    oversized cell or a malformed quote is quarantined; an unterminated quote or a byte not of the
    encoding is a MappingError naming the row, line (and byte)."""

    def __init__(self, codebook: Codebook, path: Path):
        super().__init__(codebook, path)
        opts = codebook.csv_options
        self.file = CsvFile(path, encoding=opts["encoding"], delimiter=opts["delimiter"])
        self.columns = self.file.header
        self.nul_cells = self.file.nul_cells

    def rows(self):
        header = self.columns
        for number, _line, cells, reason in self.file.rows():
            if reason is not None:
                yield number, None, reason
            else:
                yield number, dict(zip(header, cells, strict=False)), None


class XlsxReader(Reader):
    def __init__(self, codebook: Codebook, path: Path):
        super().__init__(codebook, path)
        rows = self._sheet_rows()
        try:
            self.columns = [self._clean(c, "(header)") for c in next(rows, ())]
        finally:
            rows.close()

    def _sheet_rows(self):
        return xlsx_rows(self.path, self.codebook.sheet, self.codebook.path)

    def _clean(self, cell, column: str) -> str:
        text = _text(cell) if not isinstance(cell, str) else cell
        if "\x00" in text:
            self.nul_cells[column] += 1
        return _text(text)

    def rows(self):
        rows = self._sheet_rows()
        header = [_text(c) for c in next(rows, ())]
        for number, values in enumerate(rows, start=1):
            if any(_text(v) for v in values):
                if any(_text(v) for v in values[len(header) :]):  # an answer no header names: like a CSV row
                    yield number, None, f"row {number}: a value beyond the header's {len(header)} columns"
                    continue
                for column, value in zip(header, values, strict=False):
                    if isinstance(value, str) and "\x00" in value:
                        self.nul_cells[column] += 1
                yield number, dict(zip(header, values, strict=False)), None


class SavReader(Reader):
    def __init__(self, codebook: Codebook, path: Path):
        super().__init__(codebook, path)
        import pyreadstat

        try:
            self.frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
        except Exception as exc:  # noqa: BLE001 -- pyreadstat.ReadstatError and friends: not an SPSS file
            raise MappingError(f"{self.path}: not a readable SPSS .sav file: {exc}") from None
        self.columns = list(meta.column_names)
        self.labels = {n: label for n, label in zip(meta.column_names, meta.column_labels or [], strict=False) if label}

    def rows(self):
        for number, values in enumerate(self.frame.itertuples(index=False, name=None), start=1):
            yield number, dict(zip(self.columns, values, strict=False)), None


READERS = {"csv": CsvReader, "xlsx": XlsxReader, "sav": SavReader}


def _text(cell) -> str:
    """A cell as text: '' when empty, integral floats without '.0' (SPSS and Excel store numbers as floats)."""
    if cell is None:
        return ""
    if isinstance(cell, float):
        if math.isnan(cell):
            return ""
        return str(int(cell)) if cell.is_integer() and abs(cell) < 1e15 else repr(cell)
    if isinstance(cell, (datetime, date)):
        return cell.isoformat()
    return str(cell).replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL


def _candidates(name: str, reader: Reader) -> str:
    """The three headers closest to `name`: longest common start first (long question texts), then similarity."""
    headers = list(dict.fromkeys(reader.columns + list(reader.labels.values())))

    def closeness(header: str):
        start = len(os.path.commonprefix([name.casefold(), header.casefold()]))
        return start, difflib.SequenceMatcher(None, name, header).ratio()

    close = sorted(headers, key=closeness, reverse=True)[:3]
    return ", ".join(repr(c[:80]) for c in close) or "(the file has no columns)"


def _resolve(codebook: Codebook, reader: Reader, what: str, ref: ColumnRef) -> str:
    where = f"{codebook.path}: {what}"
    if ref.column is not None:
        found = [c for c in reader.columns if c == ref.column] or [
            n for n, label in reader.labels.items() if label == ref.column
        ]
        if not found:
            raise MappingError(
                f"{where}: column {ref.column!r} not found in {reader.path};"
                f" candidates: {_candidates(ref.column, reader)}"
            )
    else:
        found = [c for c in reader.columns if c.startswith(ref.prefix)]
        found += [n for n, label in reader.labels.items() if label.startswith(ref.prefix) and n not in found]
        if not found:
            raise MappingError(
                f"{where}: column_prefix {ref.prefix!r} matches no column in {reader.path}; "
                f"candidates: {_candidates(ref.prefix, reader)}"
            )
    found = list(dict.fromkeys(found))
    if len(found) > 1:
        raise MappingError(
            f"{where}: {ref.describe()} matches {len(found)} columns in {reader.path}: "
            + ", ".join(repr(c[:80]) for c in found)
        )
    if found[0] in reader.duplicated:
        raise MappingError(
            f"{where}: column {found[0][:80]!r} appears {reader.columns.count(found[0])} times in the header of "
            f"{reader.path}; the codebook cannot tell which one to read (rename one in the export)"
        )
    ref.resolved = found[0]
    return found[0]


def open_reader(codebook: Codebook, path: Path) -> Reader:
    """Open the data file and resolve every column the codebook names; fail before anything loads."""
    if not path.is_file():
        raise MappingError(f"{path}: data file not found")
    reader = READERS[codebook.format](codebook, path)
    claimed: dict[str, str] = {}
    refs = [(f"item '{i.code}'", i.ref) for i in codebook.items]
    refs += [(f"attribute '{a.name}'", a.ref) for a in codebook.attributes if a.ref is not None]
    refs += [
        (name, ref)
        for name, ref in (
            ("respondent_id", codebook.respondent_id),
            ("submitted_at", codebook.submitted_at),
            ("consent", codebook.consent),
        )
        if ref
    ]
    refs += [(f"free_text[{n}]", ref) for n, ref in enumerate(codebook.free_text)]
    for what, ref in refs:
        column = _resolve(codebook, reader, what, ref)
        if column in claimed and (what.startswith("item") or claimed[column].startswith("item")):
            raise MappingError(f"{codebook.path}: {what}: column {column[:80]!r} is already read by {claimed[column]}")
        claimed.setdefault(column, what)
    return reader


# --- turning cells into values ----------------------------------------------------------------------


def _answer(item: Item, text: str) -> tuple[float | None, str | None]:
    """(value, None) for an answer or a missing one (value None); (None, reason) to quarantine the cell."""
    if is_placeholder(text):
        return None, None
    scale = item.scale
    bounds = f"scale {scale.name}: {scale.min:g}-{scale.max:g}"
    try:
        value = float(text.replace(",", ".") if "," in text and "." not in text else text)
    except ValueError:
        return None, f"item {item.code}: {text[:40]!r} is not a number ({bounds})"
    if value in scale.missing:
        return None, None
    if not math.isfinite(value) or not scale.min <= value <= scale.max:
        return None, f"item {item.code}: {text[:40]} is outside the scale ({bounds})"
    if scale.integer and not value.is_integer():
        return None, f"item {item.code}: {text[:40]} is not a whole point of the scale ({bounds})"
    return value, None


_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
)


def parse_datetime(cell) -> str:
    if isinstance(cell, datetime):
        return cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    text = _text(cell)
    for pattern in _DATETIME_FORMATS:
        try:
            return datetime.strptime(text, pattern).isoformat()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise ValueError(f"not a date and time: {text!r}") from None


class RowReader:
    """Reads one data row: consent, respondent, attributes, answers, free text."""

    def __init__(self, codebook: Codebook):
        self.codebook = codebook
        self.unmapped: Counter[tuple[str, str]] = Counter()
        self.key = config.pseudonym_key()
        self.seen: dict[str, int] = {}

    def refusal(self, number: int, row: dict) -> str | None:
        """Why this row must not be kept at all, or None."""
        cb = self.codebook
        if cb.consent is not None:
            answer = _text(row.get(cb.consent.resolved))
            if normalise_key(answer) not in cb.consent_values:
                return f"no consent: {cb.consent.resolved[:60]!r} is {answer[:40]!r}"
        if cb.respondent_id is not None:
            rid = _text(row.get(cb.respondent_id.resolved))
            if is_placeholder(rid):
                return f"respondent id {cb.respondent_id.resolved!r} is empty"
            if rid in self.seen:
                return f"duplicate respondent id (first at row {self.seen[rid]})"
            self.seen[rid] = number
        return None

    def respondent_key(self, number: int, row: dict) -> str:
        cb = self.codebook
        value = _text(row.get(cb.respondent_id.resolved)) if cb.respondent_id else f"row:{cb.name}:{number}"
        return pseudonymise(value, f"survey:{cb.survey}", self.key)

    def attribute(self, attribute: Attribute, row: dict) -> tuple[str | None, str | None]:
        """(canonical value, raw text) of one attribute."""
        if attribute.ref is None:
            return attribute.value, None
        text = _text(row.get(attribute.ref.resolved))
        if is_placeholder(text):
            return None, text or None
        if attribute.open:
            return collapse_whitespace(text), text  # a category in marts only when >= 5 respondents hold it
        if attribute.map is not None:
            key = normalise_key(text)
            if key in attribute.map:
                return attribute.map[key], text
        else:
            try:
                return ATTRIBUTE_PARSERS[attribute.parse](text), text
            except ValueError:
                pass
        self.unmapped[(attribute.name, text[:200])] += 1
        return None, text

    def submitted_at(self, row: dict) -> str | None:
        cb = self.codebook
        if cb.submitted_at is None:
            return None
        cell = row.get(cb.submitted_at.resolved)
        if is_placeholder(_text(cell)):
            return None
        try:
            return parse_datetime(cell)
        except ValueError:
            self.unmapped[("submitted_at", _text(cell)[:200])] += 1
            return None


def load_survey(codebook_path: str | Path, data_path: str | Path, wh=None, progress=None) -> LoadResult:
    """Load one survey export through its codebook; a second load of the same content is a no-op."""
    codebook = Codebook.load(codebook_path)
    data_path = Path(data_path)
    reader = open_reader(codebook, data_path)
    row_reader = RowReader(codebook)
    respondents: list[tuple] = []
    free_texts: list[tuple] = []
    cb = codebook

    def cells():
        for number, row, unreadable in reader.rows():
            refusal = unreadable or row_reader.refusal(number, row)
            if refusal:
                for item in cb.items:  # nothing of a refused row is kept, not even its answers
                    yield number, None, refusal, item.code, None
                continue
            key = row_reader.respondent_key(number, row)
            values, raw = {}, {}
            for attribute in cb.attributes:
                values[attribute.name], text = row_reader.attribute(attribute, row)
                if text is not None:
                    raw[attribute.name] = text
            closed = {a.name: values[a.name] for a in cb.attributes if not a.open}
            opened = {a.name: values[a.name] for a in cb.attributes if a.open}
            respondents.append(
                (number, cb.name, cb.survey, cb.wave, key, row_reader.submitted_at(row))
                + tuple(None if a in opened else values.get(a) for a in ATTRIBUTES)
                + tuple(json.dumps(d, ensure_ascii=False) if d else None for d in (raw, closed, opened))
            )
            for ref in cb.free_text:
                text = _text(row.get(ref.resolved))
                if not is_placeholder(text):
                    free_texts.append((number, cb.name, cb.survey, cb.wave, key, ref.resolved, text))
            for item in cb.items:
                text = _text(row.get(item.ref.resolved))
                value, reason = _answer(item, text)
                if reason:
                    yield number, None, reason, item.code, text[:200]
                else:
                    yield number, (cb.name, cb.survey, cb.wave, key, item.code, value), None, None, None
        for column, n in reader.nul_cells.items():  # recorded with the load (read after the last row)
            row_reader.unmapped[(column[:200], NUL_REMOVED)] += n

    def write_companions(conn, load_id: int) -> None:
        source = str(data_path)
        with conn.cursor().copy(
            "copy raw.survey_respondent (_load_id, _source, _source_row, codebook, survey, wave, respondent_key,"
            f" submitted_at, {', '.join(ATTRIBUTES)}, attributes_raw, attributes, attributes_open) from stdin"
        ) as copy:
            for row in respondents:
                copy.write_row((load_id, source) + row)
        with conn.cursor().copy(
            "copy raw.survey_item (_load_id, codebook, survey, wave, item, source_column, scale, scale_min, scale_max,"
            " reverse, construct, construct_label, min_share_answered) from stdin"
        ) as copy:
            for i in cb.items:
                copy.write_row(
                    (load_id, cb.name, cb.survey, cb.wave, i.code, i.ref.resolved, i.scale.name, i.scale.min,
                     i.scale.max, i.reverse, i.construct.name, i.construct.label, i.construct.min_share_answered)
                )  # fmt: skip
        with conn.cursor().copy(
            "copy raw.survey_free_text (_load_id, _source, _source_row, codebook, survey, wave, respondent_key,"
            " question, answer) from stdin"
        ) as copy:
            for row in free_texts:
                copy.write_row((load_id, source) + row)

    answers = RawTable("raw.survey_answer", ("codebook", "survey", "wave", "respondent_key", "item", "value"))
    load = Load("survey", cb.name, cb.sha256, path=data_path)
    return load.run(
        answers, cells(), unmapped=row_reader.unmapped, after_copy=write_companions, wh=wh, progress=progress
    )


def load_survey_inbox(wh: warehouse.Warehouse | None = None, inbox: Path | None = None) -> list[LoadResult]:
    """Load every file in `<inbox>/surveys/` through the codebook named like it (surveys/<codebook>.yml).

    Files already loaded are skipped (content hash), so a daily run loads each new file once.
    """
    wh = wh or warehouse.current()
    warehouse.migrate(wh)
    return load_inbox_folder(
        (inbox or config.inbox()) / "surveys",
        config.project_dir() / "surveys",
        DATA_SUFFIXES,
        lambda codebook, data_file: load_survey(codebook, data_file, wh),
        "codebook",
    )

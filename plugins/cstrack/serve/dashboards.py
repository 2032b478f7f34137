"""Dashboards as code: read and validate `dashboards/*.yml` (see dashboards/README.md).

The single reader for both consumers, `cstrack metabase sync` and the static report, so a spec that
one accepts the other accepts too. Card SQL uses Metabase's template syntax: `{{tag}}` is a filter
value and `[[ ... ]]` an optional clause that Metabase drops when its tags have no value.
`render_sql` does the same for psycopg, binding values as parameters.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cstrack import config, specs
from cstrack.errors import CstrackError

DISPLAYS = ("map", "bar", "row", "line", "area", "pie", "table", "scalar")
FILTER_TYPES = ("text", "number", "date")
GRID_WIDTH = 24  # Metabase's dashboard grid

_DASHBOARD_KEYS = {"dashboard", "title", "audience", "description", "filters", "cards"}
_FILTER_KEYS = {"slug", "name", "type", "default", "example"}
_CARD_KEYS = {"id", "title", "description", "display", "sql", "x", "y", "size", "filters", "units"}
PERCENT_UNITS = ("percent", "share")  # percent: 0-100; share: 0-1; both shown as "59.7 %"
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_TAG = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.DOTALL)


class SpecError(CstrackError):
    """A dashboard spec that does not follow dashboards/README.md."""


@dataclass(frozen=True)
class Filter:
    slug: str  # the template tag name
    name: str
    type: str  # text | number | date
    default: Any
    example: Any

    def coerce(self, value: Any) -> Any:
        """The Python value psycopg binds for this filter's type (None stays None: no filter)."""
        if value is None:
            return None
        if self.type == "number":
            number = float(value)
            return int(number) if number.is_integer() else number
        if self.type == "date":
            return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        return str(value)


@dataclass(frozen=True)
class Card:
    id: str
    title: str
    description: str
    display: str
    sql: str
    x: str | None
    y: tuple[str, ...]
    width: int
    height: int
    filters: tuple[Filter, ...] = ()
    units: tuple[tuple[str, str], ...] = ()  # (column, unit): percent, share, timestamp or a noun

    def unit(self, column: str) -> str | None:
        return dict(self.units).get(column)

    @property
    def tags(self) -> tuple[str, ...]:
        """Template tags in the order they first appear in the SQL."""
        return tuple(dict.fromkeys(_TAG.findall(self.sql)))

    @property
    def marts(self) -> tuple[str, ...]:
        """The `marts` tables the SQL reads, sorted."""
        return tuple(sorted(set(_table_references(self.sql)[0])))


@dataclass(frozen=True)
class Dashboard:
    id: str
    title: str
    audience: str
    description: str
    filters: tuple[Filter, ...]
    cards: tuple[Card, ...]
    path: Path = field(compare=False)

    @property
    def marts(self) -> tuple[str, ...]:
        return tuple(sorted({m for card in self.cards for m in card.marts}))

    def defaults(self) -> dict[str, Any]:
        return {f.slug: f.default for f in self.filters}

    def card(self, card_id: str) -> Card:
        for card in self.cards:
            if card.id == card_id:
                return card
        raise KeyError(card_id)


def dashboards_dir() -> Path:
    return config.project_dir() / "dashboards"


def load_dashboards(directory: Path | None = None) -> list[Dashboard]:
    """Every `*.yml` in the folder, sorted by id."""
    directory = Path(directory or dashboards_dir())
    paths = sorted(directory.glob("*.yml"))
    if not paths:
        raise SpecError(f"{directory}: no dashboard specs (*.yml)")
    return [load_dashboard(path) for path in paths]


def load_dashboard(path: Path) -> Dashboard:
    path = Path(path)
    where = f"dashboards/{path.name}"
    try:
        spec = specs.parse_yaml(path.read_bytes(), where)
    except OSError as exc:
        raise SpecError(f"{where}: cannot read: {exc.strerror}") from None
    except CstrackError as exc:
        raise SpecError(str(exc)) from None
    if not isinstance(spec, dict):
        raise SpecError(f"{where}: expected a mapping with dashboard, title, filters and cards")
    try:
        filters, cards = _checked_parts(spec, path, where)
    except (TypeError, AttributeError, ValueError):
        _validate(spec, where)  # a value of a wrong type the checks tripped over: the schema names its key
        raise
    _validate(spec, where)  # after the checks, which name the card or filter: the wrong types they let through
    return Dashboard(
        id=path.stem,
        title=_text(spec, "title", where),
        audience=str(spec.get("audience") or ""),
        description=" ".join(str(spec.get("description") or "").split()),
        filters=tuple(filters.values()),
        cards=tuple(cards.values()),
        path=path,
    )


def _validate(spec: dict, where: str) -> None:
    try:
        specs.validate(spec, "dashboard.schema.json", where)
    except CstrackError as exc:
        raise SpecError(str(exc)) from None


def _checked_parts(spec: dict, path: Path, where: str) -> tuple[dict[str, Filter], dict[str, Card]]:
    """The dashboard's filters and cards, each checked with a message that names it."""
    _check_keys(spec, _DASHBOARD_KEYS, {"dashboard", "title", "cards"}, where)
    if spec["dashboard"] != path.stem:
        raise SpecError(f"{where}: dashboard: {spec['dashboard']!r} must equal the file name {path.stem!r}")
    if not _IDENT.match(path.stem):
        raise SpecError(f"{where}: the file name must be a lower-case identifier (letters, digits, _)")

    filters: dict[str, Filter] = {}
    for i, raw in enumerate(spec.get("filters") or []):
        flt = _filter(raw, f"{where}: filters[{i}]")
        if flt.slug in filters:
            raise SpecError(f"{where}: filter {flt.slug}: duplicate slug")
        filters[flt.slug] = flt

    if not isinstance(spec["cards"], list) or not spec["cards"]:
        raise SpecError(f"{where}: cards: a non-empty list is required")
    cards: dict[str, Card] = {}
    for i, raw in enumerate(spec["cards"]):
        card = _card(raw, filters, where, i)
        if card.id in cards:
            raise SpecError(f"{where}: card {card.id}: duplicate id")
        cards[card.id] = card
    return filters, cards


def render_sql(card: Card, values: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """Metabase template SQL -> (SQL with %(tag)s placeholders, params) for psycopg.

    An optional clause whose tags all have a value is kept (brackets removed); any other is dropped.
    Values never enter the SQL text. Literal `%` is doubled because psycopg formats the query.
    """
    values = values or {}
    bound = {f.slug: f.coerce(values.get(f.slug)) for f in card.filters}
    params: dict[str, Any] = {}

    def keep_or_drop(match: re.Match) -> str:
        clause = match.group(1)
        tags = _TAG.findall(clause)
        return clause if all(bound.get(tag) is not None for tag in tags) else ""

    sql = _OPTIONAL.sub(keep_or_drop, card.sql)
    pieces = _TAG.split(sql)  # even indexes: SQL text, odd indexes: tag names
    out = []
    for i, piece in enumerate(pieces):
        if i % 2 == 0:
            out.append(piece.replace("%", "%%"))
        else:
            params[piece] = bound[piece]
            out.append(f"%({piece})s")
    return "".join(out), params


# --- dbt exposures ---------------------------------------------------------------------------------

EXPOSURES_HEADER = (
    "# Generated by `cstrack dashboards exposures` from dashboards/*.yml: do not edit by hand.\n"
    "# Lineage: which marts feed which dashboard (parsed from the cards' SQL). A test checks it is current.\n"
)


def exposures_path() -> Path:
    return config.project_dir() / "dbt" / "models" / "exposures.yml"


def dbt_models() -> set[str]:
    return {path.stem for path in (config.project_dir() / "dbt" / "models").rglob("*.sql")}


def exposures_yaml(dashboards: list[Dashboard]) -> str:
    """dbt exposures, one per dashboard, depending on the dbt models its cards read.

    Relations that are not dbt models (marts.refresh_info, written at publish) are listed under meta,
    since a ref() to them would break dbt's parse.
    """
    models = dbt_models()
    exposures = []
    for dashboard in dashboards:
        meta = {"spec": f"dashboards/{dashboard.path.name}", "cards": [card.id for card in dashboard.cards]}
        others = [m for m in dashboard.marts if m not in models]
        if others:
            meta["other_relations"] = [f"marts.{m}" for m in others]
        exposures.append(
            {
                "name": dashboard.id,
                "label": dashboard.title,
                "type": "dashboard",
                "maturity": "medium",
                "description": dashboard.description or dashboard.title,
                "owner": {"name": "CS Track (dashboards as code)"},
                "depends_on": [f"ref('{m}')" for m in dashboard.marts if m in models],
                "meta": meta,
            }
        )
    body = yaml.safe_dump({"version": 2, "exposures": exposures}, sort_keys=False, allow_unicode=True, width=100)
    return EXPOSURES_HEADER + body


def write_exposures(dashboards: list[Dashboard] | None = None) -> Path:
    path = exposures_path()
    path.write_text(exposures_yaml(dashboards if dashboards is not None else load_dashboards()), encoding="utf-8")
    return path


# --- validation -------------------------------------------------------------------------------------


def _check_keys(spec: dict, allowed: set[str], required: set[str], where: str) -> None:
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise SpecError(f"{where}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")
    missing = sorted(k for k in required if spec.get(k) in (None, ""))
    if missing:
        raise SpecError(f"{where}: missing field {missing[0]!r}")


def _text(spec: dict, key: str, where: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{where}: {key}: a non-empty text is required")
    return value


def _filter(raw: Any, where: str) -> Filter:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: expected a mapping with slug, name, type, default, example")
    _check_keys(raw, _FILTER_KEYS, {"slug", "name", "type", "example"}, where)
    slug = str(raw["slug"])
    where = f"{where.rsplit(': ', 1)[0]}: filter {slug}"
    if not _IDENT.match(slug):
        raise SpecError(f"{where}: slug: must be a lower-case identifier (letters, digits, _)")
    if raw["type"] not in FILTER_TYPES:
        raise SpecError(f"{where}: type: {raw['type']!r} is not one of {', '.join(FILTER_TYPES)}")
    flt = Filter(slug=slug, name=str(raw["name"]), type=raw["type"], default=raw.get("default"), example=raw["example"])
    for key in ("default", "example"):
        try:
            flt.coerce(raw.get(key))
        except (TypeError, ValueError):
            raise SpecError(f"{where}: {key}: {raw.get(key)!r} is not a valid {flt.type}") from None
    return flt


def _card(raw: Any, filters: dict[str, Filter], where: str, index: int) -> Card:
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: cards[{index}]: expected a mapping with id, title, display, sql")
    card_id = str(raw.get("id") or f"cards[{index}]")
    where = f"{where}: card {card_id}"
    _check_keys(raw, _CARD_KEYS, {"id", "title", "display", "sql"}, where)
    if not _IDENT.match(card_id):
        raise SpecError(f"{where}: id: must be a lower-case identifier (letters, digits, _)")
    display = raw["display"]
    if display not in DISPLAYS:
        raise SpecError(f"{where}: display: {display!r} is not one of {', '.join(DISPLAYS)}")
    sql = _text(raw, "sql", where).strip()

    y = raw.get("y")
    y = tuple(y) if isinstance(y, list) else (y,) if y else ()
    x = raw.get("x")
    if display == "scalar" and not y:
        raise SpecError(f"{where}: y: a scalar card needs the column of its value")
    if display not in ("scalar", "table") and (not x or not y):
        raise SpecError(f"{where}: x and y: a {display} card needs its dimension (x) and metric (y) columns")

    size = raw.get("size") or {}
    width, height = size.get("width", 12), size.get("height", 6)
    if not (isinstance(width, int) and 1 <= width <= GRID_WIDTH and isinstance(height, int) and height >= 1):
        raise SpecError(f"{where}: size: width must be 1..{GRID_WIDTH} and height at least 1")

    listed = raw.get("filters") or []
    for slug in listed:
        if slug not in filters:
            raise SpecError(f"{where}: filters: {slug!r} is not a filter of the dashboard")
    _check_template(sql, set(listed), where)
    _check_schemas(sql, where)
    units = raw.get("units") or {}
    if not isinstance(units, dict):
        raise SpecError(f"{where}: units: a mapping of column to unit is required")
    if display == "scalar" and y and y[0] not in units:
        raise SpecError(
            f"{where}: units: a key figure says its unit: add units: {{{y[0]}: percent|share|timestamp|<noun>}}"
        )
    return Card(
        id=card_id,
        title=_text(raw, "title", where),
        description=" ".join(str(raw.get("description") or "").split()),
        display=display,
        sql=sql,
        x=x,
        y=y,
        width=width,
        height=height,
        filters=tuple(filters[slug] for slug in listed),
        units=tuple((str(column), str(unit)) for column, unit in units.items()),
    )


def _check_template(sql: str, listed: set[str], where: str) -> None:
    outside = _OPTIONAL.sub(" ", sql)
    if "[[" in outside or "]]" in outside:
        raise SpecError(f"{where}: sql: unbalanced [[ ... ]] optional clause")
    for clause in _OPTIONAL.findall(sql):
        if "[[" in clause:
            raise SpecError(f"{where}: sql: optional clauses cannot nest")
    if "{{" in _TAG.sub(" ", sql) or "}}" in _TAG.sub(" ", sql):
        raise SpecError(f"{where}: sql: unbalanced {{{{ ... }}}} template tag")
    tags = _TAG.findall(sql)
    for tag in tags:
        if not _IDENT.match(tag):
            raise SpecError(
                f"{where}: sql: template tag {{{{{tag}}}}} is not a plain filter name (no snippets or field filters)"
            )
        if tag not in listed:
            raise SpecError(f"{where}: sql: template tag {{{{{tag}}}}} is not declared in the card's filters")
    for tag in _TAG.findall(outside):
        raise SpecError(f"{where}: sql: template tag {{{{{tag}}}}} must be inside an optional [[ ... ]] clause")
    unused = sorted(listed - set(tags))
    if unused:
        raise SpecError(f"{where}: filters: {unused[0]!r} is listed but the SQL has no {{{{{unused[0]}}}}} tag")


def _check_schemas(sql: str, where: str) -> None:
    marts, others = _table_references(sql)
    if others:
        raise SpecError(f"{where}: sql: reads {others[0]!r}; cards may read the marts schema only (marts.<table>)")
    if not marts:
        raise SpecError(f"{where}: sql: reads no marts.<table>")


# `from x` inside these functions is not a table reference
_FROM_FUNCTIONS = re.compile(r"\b(?:extract|substring|trim|overlay)\s*\([^()]*\)", re.IGNORECASE)
_REFERENCE = re.compile(
    r"\b(?:from|join)\s+(?:lateral\s+|only\s+)?(\"?[A-Za-z_][\w$]*\"?(?:\s*\.\s*\"?[A-Za-z_][\w$]*\"?)?)(\s*\()?",
    re.IGNORECASE,
)
_CTE = re.compile(r"\b([A-Za-z_]\w*)\s+as\s+(?:not\s+)?(?:materialized\s+)?\(", re.IGNORECASE)


def _table_references(sql: str) -> tuple[list[str], list[str]]:
    """(marts tables, other relations) that the SQL reads after FROM or JOIN.

    Unqualified names are allowed only when they are CTEs of the same statement; function calls
    (`from generate_series(...)`, `from unnest(...)`) are not relations.
    """
    text = re.sub(r"--[^\n]*", " ", sql)
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
    text = re.sub(r"'(?:[^']|'')*'", "''", text)
    text = _TAG.sub("null", text)
    previous = None
    while previous != text:  # innermost first, so nested parentheses peel off
        previous, text = text, _FROM_FUNCTIONS.sub("null", text)
    ctes = {name.lower() for name in _CTE.findall(text)}
    marts, others = [], []
    for match in _REFERENCE.finditer(text):
        name, call = re.sub(r"\s+", "", match.group(1)).replace('"', ""), match.group(2)
        if call:
            continue
        schema, _, table = name.rpartition(".")
        if schema.lower() == "marts":
            marts.append(table.lower())
        elif schema or name.lower() not in ctes:
            others.append(name)
    return marts, others

"""The static report: a small site under $CSTRACK_HOME/report, rendered from the dashboard specs.

Pages: index.html (freshness and quality banner, the dashboards, sources and credits), one page per
`dashboards/*.yml` (every card: Vega-Lite charts, HTML tables, big numbers), indicators.html (the
indicator catalogue), and dbt-docs/index.html (dbt's docs site: lineage and column descriptions).
Every number is read as `cstrack_reporter`, each card through `dashboards.render_sql` with the
filters' defaults, so the report shows what Metabase shows. A mart that is not published yet is a
note on its cards, never a crash. The JavaScript (Vega, Vega-Lite, vega-embed) is written once into
assets/ from the vl-convert-python wheel: the site works from file:// with no server and no network.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from pathlib import Path

import psycopg

from cstrack import config, warehouse
from cstrack.errors import CstrackError
from cstrack.quality import gates
from cstrack.serve import dashboards, maps
from cstrack.transform import dbt

BUNDLE = "assets/vega-bundle.js"
LICENCES = Path(__file__).parent / "report_assets" / "THIRD-PARTY-LICENSES.txt"
INTERVAL = ("ci_low", "ci_high")  # y columns that bound a metric's confidence interval
TABLE_ROWS = 200  # a table card shows at most this many rows, and says so


# --- reading, as the reporter role ---------------------------------------------------------------------


@dataclass
class Summary:
    published_at: dt.datetime
    projects: int | None  # None: marts.dim_project is not published
    sources: list[tuple[str, int]]  # (source_system, projects)


@dataclass
class CardResult:
    columns: list[str]
    rows: list[tuple]
    missing: str | None = None  # the relation that is not published yet


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def read_summary(conn: psycopg.Connection) -> Summary:
    if not _exists(conn, "marts.refresh_info"):
        raise CstrackError("no published marts yet: run `cstrack build` (or `cstrack refresh`) first")
    published_at = conn.execute("select published_at from marts.refresh_info").fetchone()[0]
    projects, sources = None, []
    if _exists(conn, "marts.dim_project"):
        projects = conn.execute("select count(*) from marts.dim_project").fetchone()[0]
    if _exists(conn, "marts.bridge_project_source"):
        sources = conn.execute(
            "select source_system, count(distinct project_key) from marts.bridge_project_source group by 1 order by 1"
        ).fetchall()
    return Summary(published_at, projects, sources)


def summary(wh: warehouse.Warehouse) -> Summary:
    """What is published: the CLI prints it after a refresh."""
    with warehouse.connect(wh) as conn:
        warehouse.as_reporter(conn)
        return read_summary(conn)


def run_card(conn: psycopg.Connection, board: dashboards.Dashboard, card: dashboards.Card) -> CardResult:
    """The card's SQL with the dashboard filters' defaults; a missing mart becomes a note."""
    sql, params = dashboards.render_sql(card, board.defaults())
    try:
        with conn.transaction():  # a savepoint: a failed card leaves the connection usable
            cursor = conn.execute(sql, params)
            result = CardResult([c.name for c in cursor.description], cursor.fetchall())
    except psycopg.errors.UndefinedTable as exc:
        return CardResult([], [], missing=_relation(exc))
    except psycopg.Error as exc:
        raise CstrackError(f"dashboards/{board.id}.yml: card {card.id}: {exc.diag.message_primary or exc}") from None
    for column in (card.x, *card.y):
        if column and column not in result.columns:
            raise CstrackError(
                f"dashboards/{board.id}.yml: card {card.id}: the SQL returns no column {column!r}"
                f" (it returns {', '.join(result.columns)})"
            )
    return result


def _relation(exc: psycopg.Error) -> str:
    """'relation "marts.x" does not exist' -> marts.x"""
    message = exc.diag.message_primary or str(exc)
    return message.split('"')[1] if message.count('"') >= 2 else message


# the data steward's page: what the last refresh did, from the ops marts (as the reporter reads them)
STEWARD_QUERIES = {
    "tasks": (
        "marts.rpt_task_runs",
        """select t.dag_id, t.task_id, t.attempt, t.state, t.started_at,
                  round(t.duration_seconds::numeric, 1) as seconds, t.rows_read, t.rows_loaded, t.rows_quarantined
           from marts.rpt_task_runs t
           where (t.dag_id, t.run_id) in (
               select distinct on (dag_id) dag_id, run_id from marts.rpt_task_runs order by dag_id, finished_at desc)
           order by t.dag_id, t.started_at, t.task_id, t.attempt""",
    ),
    "quarantine": (
        "marts.rpt_quarantine_summary",
        """select source_kind, source_system, field, rows_quarantined, loads, last_quarantined_at
           from marts.rpt_quarantine_summary order by rows_quarantined desc, source_system, field limit 100""",
    ),
    "gates": (
        "marts.rpt_quality_summary",
        """select distinct on (suite) suite, success, evaluated, failed, critical_failed, validated_at
           from marts.rpt_quality_summary order by suite, result_id desc""",
    ),
}
DATA_DOCS = "../quality/data_docs"


def read_steward(conn: psycopg.Connection) -> dict[str, CardResult]:
    out = {}
    for name, (relation, sql) in STEWARD_QUERIES.items():
        if not _exists(conn, relation):
            out[name] = CardResult([], [], missing=relation)
        else:
            cursor = conn.execute(sql)
            out[name] = CardResult([c.name for c in cursor.description], cursor.fetchall())
    return out


def _suite_page(suite: str) -> str:
    """GX Data Docs page of a suite's expectations: raw.catalogue_record -> expectations/raw/catalogue_record.html"""
    schema, _, table = suite.partition(".")
    return f"{DATA_DOCS}/expectations/{schema}/{table}.html"


def render_steward(results: dict[str, CardResult], boards) -> str:
    from cstrack.sources import BY_KIND

    def section(title: str, note: str, result: CardResult, table_id: str, links=None) -> str:
        if result.missing:
            return f"<h2>{escape(title)}</h2>" + _missing(result.missing)
        if not result.rows:
            return f'<h2>{escape(title)}</h2><p class="empty">{escape(note)}</p>'
        html = render_table(result, table_id)
        return f'<h2>{escape(title)}</h2><div class="table-wrap">{html}</div>' + (links or "")

    tasks = results["tasks"]
    last_attempt: dict[tuple, tuple] = {}  # (dag, task) -> its row of the highest attempt: a retry may succeed
    for row in tasks.rows:
        key = (row[0], row[1])
        if key not in last_attempt or row[2] >= last_attempt[key][2]:
            last_attempt[key] = row
    failed = [r for r in last_attempt.values() if r[tasks.columns.index("state")] == "failed"]
    quarantine = results["quarantine"]
    kinds = sorted({r[0] for r in quarantine.rows}) if quarantine.rows else []
    checks = "".join(
        f'<li>{escape(kind)}: ' + ", ".join(
            f'<a href="{_suite_page(f"raw.{table}")}">raw.{escape(table)}</a>' for table in BY_KIND[kind].raw_tables
        ) + "</li>"
        for kind in kinds if kind in BY_KIND
    )  # fmt: skip
    gates = results["gates"]
    suites = "".join(
        f'<li><a href="{escape(_suite_page(r[0]))}">{escape(r[0])}</a>{"" if r[1] else " (failed)"}</li>'
        for r in gates.rows
    )
    body = (
        "<h1>Data steward</h1>"
        '<p class="description">What the last refresh did, what the loads set aside and what the quality gates '
        "checked: read from the ops marts. Reasons and rejected values stay in the ops schema (they can quote "
        "data); the GX Data Docs say what each check expects.</p>"
        + (
            f'<p class="banner failed" id="failed-tasks">{len(failed)} task(s) failed in the last run.</p>'
            if failed
            else ""
        )  # fmt: skip
        + section(
            "The last run of each DAG",
            "No task outcomes recorded yet (they are written by Airflow tasks: `cstrack refresh` or the Airflow UI).",
            tasks,
            "steward-tasks",
        )  # fmt: skip
        + section(
            "Quarantined rows by source and field",
            "Nothing was quarantined.",
            quarantine,
            "steward-quarantine",
            f'<p class="note">What the raw gate checks per source (GX Data Docs):</p>'
            f'<ul id="quarantine-checks">{checks}</ul>'
            if checks
            else "",
        )  # fmt: skip
        + section(
            "Quality gates: the latest validation of each suite",
            "No quality gate has run yet.",
            gates,
            "steward-gates",
            f'<ul class="columns" id="suite-docs">{suites}</ul>' if suites else "",
        )  # fmt: skip
    )
    return page("Data steward", body, boards, "steward.html")


def read_table(conn: psycopg.Connection, relation: str) -> CardResult:
    if not _exists(conn, relation):
        return CardResult([], [], missing=relation)
    cursor = conn.execute(f"select * from {relation} order by 1")  # relation: a constant of this module
    return CardResult([c.name for c in cursor.description], cursor.fetchall())


def gate_status() -> tuple[bool | None, str]:
    """The last quality gate run (raw_gate or marts_gate), from GX's validation results under
    $CSTRACK_HOME/quality: validations/<schema>/<table>/<run name>/<run time>/<batch>.json.

    Returns (passed, sentence); passed is None when there are no results (e.g. another machine ran it).
    """
    runs: dict[str, list[Path]] = {}
    for path in (gates.quality_dir() / "validations").glob("*/*/*/*/*.json"):
        runs.setdefault(path.parent.name, []).append(path)  # one checkpoint run: one run time
    if not runs:
        return None, "No quality gate results are kept beside this report."
    suites = [json.loads(path.read_text(encoding="utf-8")) for path in runs[max(runs)]]
    gate = "raw_gate" if all(s["suite_name"].startswith("raw.") for s in suites) else "marts_gate"
    results = [r for suite in suites for r in suite["results"]]
    failed = [r for r in results if not r["success"]]
    critical = [r for r in failed if (r["expectation_config"].get("meta") or {}).get("severity") != "warning"]
    when = _time(dt.datetime.fromisoformat(suites[0]["meta"]["run_id"]["run_time"]))
    counts = f"{len(results)} expectations on {len(suites)} tables"
    if critical:
        return False, (
            f"The last quality gate ({gate}, {when}) failed: {len(critical)} critical of {counts}. "
            "Nothing was published: the figures below are the last version that passed."
        )
    warnings = f", {len(failed)} warning{'s' if len(failed) != 1 else ''}" if failed else ""
    return True, f"The last quality gate ({gate}, {when}) passed: {counts}{warnings}."


def source_credits(sources) -> list[str]:
    """Attribution of each published catalogue, from its mapping (`credit`, else title and licence)."""
    from cstrack.ingest.catalogue import Mapping

    folder = config.project_dir() / "catalogues"
    return [Mapping.load(folder / f"{s}.yml").credit if (folder / f"{s}.yml").exists() else s for s in sources]


# --- rendering ---------------------------------------------------------------------------------------


def _time(value: dt.datetime) -> str:
    return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def _json_value(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (int, float, str, bool)):
        return value
    return str(value)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (float, Decimal)):
        return f"{value:,.2f}"
    if isinstance(value, dt.datetime):
        return _time(value)
    if isinstance(value, (list, tuple)):
        return escape(", ".join(str(v) for v in value))
    return escape(str(value))


def _number(value) -> str:
    whole = isinstance(value, int) or (isinstance(value, (float, Decimal)) and value % 1 == 0)
    return f"{int(value):,}" if whole else f"{value:,.2f}"  # 640, not 640.00


def _percent(value, unit: str) -> str:
    """A percent (0-100) or a share (0-1) as a percent with one decimal: 59.7"""
    return f"{float(value) * (100 if unit == 'share' else 1):.1f}"


def with_unit(value, unit: str | None) -> str:
    """A value as a reader should see it: 59.7 %, 699 projects, 3.41 on a 1-5 scale (plain text)."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return "" if value is None else _time(value) if isinstance(value, dt.datetime) else str(value)
    if unit in dashboards.PERCENT_UNITS:
        return f"{_percent(value, unit)} %"
    return _number(value) + (f" {unit}" if unit and unit != "timestamp" else "")


def _header(column: str, unit: str | None) -> str:
    """Completeness (%), Mean score (on a 1-5 scale); no unit where the label says it (Projects)."""
    label = _label(column)
    if unit in dashboards.PERCENT_UNITS:
        return f"{label} (%)"
    return f"{label} ({unit})" if unit and unit != "timestamp" and unit != label.lower() else label


def _field_type(rows: list[tuple], index: int) -> str:
    values = [r[index] for r in rows if r[index] is not None]
    if values and all(isinstance(v, (dt.date, dt.datetime)) for v in values):
        return "temporal"
    if values and all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in values):
        return "quantitative"
    return "nominal"


def vega_lite(card: dashboards.Card, result: CardResult) -> dict:
    """A Vega-Lite spec for a chart card, its rows embedded. Several y columns become coloured series,
    except a metric with `ci_low` and `ci_high`: the metric, with its confidence interval as error bars."""
    x, ys = card.x, list(card.y)
    interval = card.display in ("bar", "line") and len(ys) == 3 and set(INTERVAL) <= set(ys)
    if interval:
        ys = [y for y in ys if y not in INTERVAL]
    data = [{c: _json_value(v) for c, v in zip(result.columns, row, strict=False)} for row in result.rows]
    x_type = _field_type(result.rows, result.columns.index(x))
    value = ys[0] if len(ys) == 1 else "value"
    series = {"field": "series", "type": "nominal", "title": None} if len(ys) > 1 else None
    spec: dict = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",  # an identifier only: nothing is fetched
        "data": {"values": data},
        "width": "container",
        "height": max(120, 45 * card.height - 110),
        "config": {"view": {"stroke": None}, "axis": {"labelFontSize": 12, "titleFontSize": 12}},
    }
    if series:
        spec["transform"] = [{"fold": ys, "as": ["series", "value"]}]
    unit = card.unit(ys[0])
    metric = {"field": value, "type": "quantitative", "title": _header(ys[0], unit) if len(ys) == 1 else None}
    if len(ys) > 1 and unit and all(card.unit(y) == unit for y in ys):  # one unit for all series: on the axis
        metric["title"] = "Percent" if unit in dashboards.PERCENT_UNITS else unit
    if unit == "share":
        metric["axis"] = {"format": ".0%"}
    dimension = {"field": x, "title": _label(x)}
    if card.display == "pie":
        spec["mark"] = {"type": "arc", "tooltip": True}
        spec["encoding"] = {"theta": metric, "color": dimension | {"type": "nominal", "sort": None}}
    elif card.display == "row":
        spec["height"] = 20 * len(data)  # one 20 px band per row (a {"step"} height warns with container width)
        spec["mark"] = {"type": "bar", "tooltip": True}
        spec["encoding"] = {"y": dimension | {"type": "nominal", "sort": None}, "x": metric}
        if series:
            spec["encoding"] |= {"color": series, "yOffset": {"field": "series"}}
    elif card.display == "bar":
        spec["mark"] = {"type": "bar", "tooltip": True}
        spec["encoding"] = {"x": dimension | {"type": "ordinal" if x_type != "nominal" else "nominal", "sort": None},
                            "y": metric}  # fmt: skip
        if x_type == "temporal":
            spec["encoding"]["x"]["timeUnit"] = "yearmonthdate"
        if series:
            spec["encoding"] |= {"color": series, "xOffset": {"field": "series"}}
    else:  # line, area
        spec["mark"] = {"type": card.display, "point": card.display == "line", "tooltip": True}
        x_encoding = dimension | {"type": x_type if x_type != "nominal" else "ordinal"}
        if x_type == "quantitative":  # years and counts: no thousands separator, no forced zero
            x_encoding |= {"axis": {"format": "d"}, "scale": {"zero": False, "nice": False}}
        spec["encoding"] = {"x": x_encoding, "y": metric}
        if series:
            spec["encoding"]["color"] = series
    if interval:
        bounds = {"field": INTERVAL[0], "type": "quantitative", "title": metric["title"]}
        rule = {"mark": {"type": "rule", "color": "#1d2733"},
                "encoding": {"x": spec["encoding"]["x"], "y": bounds, "y2": {"field": INTERVAL[1]}}}  # fmt: skip
        spec["layer"] = [{"mark": spec.pop("mark"), "encoding": spec.pop("encoding")}, rule]
    return spec


def _label(column: str) -> str:
    """country_code -> Country code"""
    return column.replace("_", " ").capitalize()


def _script_json(value) -> str:
    """JSON that is safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def render_table(
    result: CardResult, table_id: str, limit: int | None = TABLE_ROWS, card: dashboards.Card | None = None
) -> str:
    """An HTML table; a card's units go into the headers (a share's cells as percent: 59.7, header (%))."""
    rows = result.rows[:limit] if limit else result.rows
    units = [card.unit(c) if card else None for c in result.columns]
    head = "".join(f"<th>{escape(_header(c, u))}</th>" for c, u in zip(result.columns, units, strict=True))

    def cell(value, unit):
        if unit in dashboards.PERCENT_UNITS and isinstance(value, (int, float, Decimal)):
            return _percent(value, unit)
        return _cell(value)

    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v, u)}</td>" for v, u in zip(row, units, strict=True)) + "</tr>" for row in rows
    )
    more = (
        f'<p class="note">First {limit} of {len(result.rows)} rows.</p>' if limit and len(result.rows) > limit else ""
    )
    return f'<table class="data" id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}'


def _chart(chart_id: str, spec: dict) -> str:
    return (
        f'<div class="vega-chart" id="chart-{chart_id}" data-spec="spec-{chart_id}"></div>'
        f'<script type="application/json" id="spec-{chart_id}">{_script_json(spec)}</script>'
    )


def render_map(card: dashboards.Card, result: CardResult) -> str:
    """A choropleth of the card's x (ISO alpha-2 codes) coloured by its first y; a note names the countries
    with data that the frame leaves out."""
    value = card.y[0]
    rows = [{c: _json_value(v) for c, v in zip(result.columns, row, strict=False)} for row in result.rows]
    data = maps.map_data(rows, card.x, value, lambda row: with_unit(row.get(value), card.unit(value)))
    tooltip = [
        {"field": c, "title": _header(c, card.unit(c)), "type": _field_type(result.rows, i)}
        for i, c in enumerate(result.columns)
        if c != card.x
    ]
    size = (
        max(200, 48 * card.width - 170),
        max(200, 45 * card.height - 110),
    )  # the card's part of a 1280 px page, less legend
    spec = maps.vega_lite(data, value, _header(value, card.unit(value)), tooltip, size)
    note = ""
    if data.outside:
        frame = "this map of Europe" if data.europe else "the map"
        note = f'<p class="note" id="outside-{card.id}">Not on {frame}: {escape(", ".join(data.outside))}.</p>'
    return _chart(card.id, spec) + note


def _missing(relation: str) -> str:
    return f'<p class="missing">Not published yet: <code>{escape(relation)}</code> is not in this warehouse.</p>'


def render_card(board: dashboards.Dashboard, card: dashboards.Card, result: CardResult) -> str:
    card_id = f"card-{card.id}"
    if result.missing:
        body = _missing(result.missing)
    elif not result.rows:
        body = '<p class="empty">No data.</p>'
    elif card.display == "scalar":
        column = card.y[0] if card.y else result.columns[0]
        value = result.rows[0][result.columns.index(column)]
        text = escape(with_unit(value, card.unit(column))) if value is not None else "–"
        body = f'<p class="scalar{" long" if len(text) > 10 else ""}">{text}</p>'
        if value is None:
            body += '<p class="note">No value: nothing to count, or withheld (fewer than 5).</p>'
    elif card.display == "table":
        body = f'<div class="table-wrap">{render_table(result, f"table-{card.id}", card=card)}</div>'
    elif card.display == "map":
        body = render_map(card, result)
    else:
        body = _chart(card.id, vega_lite(card, result))
    sql, _ = dashboards.render_sql(card, board.defaults())
    return (
        f'<section class="card" id="{card_id}" data-display="{card.display}" style="--w: {card.width}">'
        f"<h2>{escape(card.title)}</h2>"
        + (f'<p class="description">{escape(card.description)}</p>' if card.description else "")
        + body
        + f"<details><summary>SQL</summary><pre>{escape(sql)}</pre></details></section>"
    )


STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #1d2733; background: #f6f7f9; }
header { background: #1d3a5c; color: #fff; padding: .8rem 2rem; }
header a { color: #fff; margin-right: 1.2rem; text-decoration: none; white-space: nowrap; display: inline-block; } header a[aria-current] { text-decoration: underline; }
main { max-width: 1280px; margin: 0 auto; padding: 1rem 2rem 3rem; }
.banner { background: #eef5ee; border-left: 4px solid #2e7d32; padding: .6rem 1rem; }
.banner.failed { background: #fdeeee; border-color: #c62828; } .banner.unknown { background: #f3f3f3; border-color: #888; }
.grid { display: grid; grid-template-columns: repeat(24, 1fr); gap: 1rem; }
.card { grid-column: span var(--w); background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: .8rem 1rem; min-width: 0; }
@media (max-width: 900px) { .card { grid-column: 1 / -1; } }
.card h2 { font-size: 1.05rem; margin: 0 0 .3rem; } .description, .note { color: #555; font-size: .9rem; margin: 0 0 .5rem; }
.vega-chart { width: 100%; } .scalar { font-size: 3rem; font-weight: 700; margin: .5rem 0; color: #1d3a5c; }
.scalar.long { font-size: 1.6rem; }
.missing, .empty { color: #8a5a00; background: #fff7e0; padding: .5rem; }
details { margin-top: .5rem; font-size: .8rem; color: #555; } pre { white-space: pre-wrap; }
.table-wrap { overflow-x: auto; max-height: 32rem; } .table-wrap.full { max-height: none; }
table { border-collapse: collapse; font-size: .9rem; } td, th { border-bottom: 1px solid #dde1e6; padding: .3rem .7rem; text-align: left; vertical-align: top; }
.boards { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 1rem; padding: 0; list-style: none; }
.boards li { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: .8rem 1rem; }
"""  # noqa: E501 -- one line per CSS rule group; rewrapping would change the stylesheet text


def page(
    title: str, body: str, boards: list[dashboards.Dashboard], current: str, charts: bool = False, geo: bool = False
) -> str:
    links = [("index.html", "Overview")] + [(f"{b.id}.html", b.title) for b in boards]
    links += [("indicators.html", "Indicators"), ("steward.html", "Data steward")]
    links += [("dbt-docs/index.html", "Data model (dbt docs)")]
    nav = "".join(
        f'<a href="{href}"{" aria-current=page" if href == current else ""}>{escape(text)}</a>' for href, text in links
    )
    script = ""
    if charts:  # vega-embed draws every chart from its inline spec; a failure is a console error
        # a map's spec names the data `countries`: the geometry the countries script defined
        geometry = f'<script src="{maps.SCRIPT}"></script>\n' if geo else ""
        script = f"""<script src="{BUNDLE}"></script>
{geometry}<script>
for (const el of document.querySelectorAll(".vega-chart")) {{
  const spec = JSON.parse(document.getElementById(el.dataset.spec).textContent);
  if (spec.data && spec.data.name === "countries") {{
    spec.data = {{values: window.CSTRACK_COUNTRIES, format: spec.data.format}};
  }}
  vegaEmbed(el, spec, {{actions: false, renderer: "svg", mode: "vega-lite"}})
    .then(() => {{ el.dataset.rendered = "yes"; }})
    .catch((err) => {{ el.dataset.rendered = "failed"; console.error(`${{el.id}}: ${{err}}`); }});
}}
</script>"""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · CS Track</title>
<style>{STYLE}</style></head>
<body>
<header><nav>{nav}</nav></header>
<main>
{body}
</main>
{script}
</body></html>
"""


def render_dashboard(board: dashboards.Dashboard, results: dict[str, CardResult], boards, published: str) -> str:
    filters = ", ".join(f"{f.name}: {'all' if f.default is None else escape(str(f.default))}" for f in board.filters)
    body = (
        f"<h1>{escape(board.title)}</h1>"
        f'<p class="description">{escape(board.description)}'
        + (f" For {escape(board.audience)}." if board.audience else "")
        + f" Data published {published}."
        + (f" Filters: {filters} (in Metabase they can be changed)." if filters else "")
        + "</p>"
        + '<div class="grid">'
        + "".join(render_card(board, card, results[card.id]) for card in board.cards)
        + "</div>"
    )
    geo = any(card.display == "map" for card in board.cards)
    return page(board.title, body, boards, f"{board.id}.html", charts=True, geo=geo)


def render_indicators(result: CardResult, boards) -> str:
    if result.missing:
        table = _missing(result.missing)
    else:
        table = f'<div class="table-wrap full">{render_table(result, "indicator-catalogue", limit=None)}</div>'
    body = (
        "<h1>Indicator catalogue</h1>"
        '<p class="description">What each indicator measures, its unit, how it is computed and from which sources.</p>'
        + table
    )
    return page("Indicator catalogue", body, boards, "indicators.html")


def render_index(
    summary_: Summary, gate: tuple[bool | None, str], boards, results: dict[str, dict[str, CardResult]]
) -> str:
    passed, sentence = gate
    state = {True: "passed", False: "failed", None: "unknown"}[passed]
    total = (
        f'<strong id="total-projects">{summary_.projects}</strong> projects · ' if summary_.projects is not None else ""
    )
    items = "".join(
        f'<li><a href="{b.id}.html"><strong>{escape(b.title)}</strong></a>'
        f'<p class="description">{escape(b.description)}</p>'
        f'<p class="note">{len(b.cards)} cards'
        + (f", {n} not published yet" if (n := sum(1 for r in results[b.id].values() if r.missing)) else "")
        + (f" · for {escape(b.audience)}" if b.audience else "")
        + "</p></li>"
        for b in boards
    )
    sources = "".join(f"<tr><td>{escape(s)}</td><td>{n}</td></tr>" for s, n in summary_.sources)
    credits = "; ".join(source_credits(s for s, _ in summary_.sources))
    body = f"""<h1>Citizen-science projects in the CS Track warehouse</h1>
<p class="banner {state}" id="freshness">Published {_time(summary_.published_at)} · {total}report generated
{_time(dt.datetime.now(dt.UTC))}<br><span id="gate-status">{escape(sentence)}</span>
<a id="data-docs" href="{DATA_DOCS}/index.html">What was checked (GX Data Docs)</a></p>
<h2>Dashboards</h2>
<ul class="boards" id="dashboards">{items}
<li><a href="indicators.html"><strong>Indicator catalogue</strong></a><p class="description">What each indicator
measures and how it is computed.</p></li>
<li><a href="steward.html"><strong>Data steward</strong></a><p class="description">The last refresh's tasks, the
quarantine by source and field, the quality gates, with links into the GX Data Docs.</p></li>
<li><a href="dbt-docs/index.html"><strong>Data model (dbt docs)</strong></a><p class="description">For analysts: every
model's lineage and column descriptions.</p></li></ul>
<h2>Sources</h2>
<table id="counts"><thead><tr><th>source</th><th>projects</th></tr></thead><tbody>{sources}</tbody></table>
<p id="credits">Sources: {escape(credits)}.</p>
<p class="note">Charts drawn with Vega-Lite (BSD-3-Clause; <a href="assets/THIRD-PARTY-LICENSES.txt">licences</a>);
maps from world-atlas (ISC) made with Natural Earth (public domain; <a href="{maps.LICENCE}">licence</a>).</p>"""  # noqa: E501 -- page text kept as it is
    return page("CS Track warehouse report", body, boards, "index.html")


# --- writing -------------------------------------------------------------------------------------------


def write_assets(out_dir: Path) -> None:
    """Vega, Vega-Lite and vega-embed in one script, from the vl-convert-python wheel (no network)."""
    import vl_convert

    header = (
        f"/* vega-embed {vl_convert.get_vega_embed_version()}, Vega-Lite {vl_convert.get_vegalite_versions()[-1]},"
        f" Vega {vl_convert.get_vega_version()}: bundled by vl-convert-python; see THIRD-PARTY-LICENSES.txt */\n"
    )
    bundle = out_dir / BUNDLE
    bundle.parent.mkdir(parents=True, exist_ok=True)
    if not bundle.exists() or not bundle.read_text(encoding="utf-8").startswith(header):  # bundling takes ~2 s
        bundle.write_text(header + vl_convert.javascript_bundle(), encoding="utf-8")
    shutil.copyfile(LICENCES, bundle.parent / LICENCES.name)
    maps.write_assets(out_dir)


def write_dbt_docs(wh: warehouse.Warehouse, out_dir: Path) -> Path:
    """dbt's docs site for the published marts, as one static file beside the report."""
    target = config.home() / "dbt" / "docs-target"  # apart from the build's target: its partial parse stays valid
    try:
        dbt.run_dbt(["docs", "generate", "--static", "--target-path", str(target)], wh, marts_schema="marts")
    except CstrackError as exc:
        raise CstrackError(f"the dbt docs site for the report could not be generated: {exc}") from None
    path = out_dir / "dbt-docs" / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(target / "static_index.html", path)
    return path


def write_report(wh: warehouse.Warehouse | None = None, out_dir: Path | None = None) -> Path:
    """Write the site; returns the path of its index.html."""
    wh = wh or warehouse.current()
    out_dir = out_dir or config.report_dir()
    boards = dashboards.load_dashboards()
    with warehouse.connect(wh) as conn:
        warehouse.as_reporter(conn)  # the report sees what Metabase sees, nothing more
        summary_ = read_summary(conn)
        results = {b.id: {c.id: run_card(conn, b, c) for c in b.cards} for b in boards}
        indicators = read_table(conn, "marts.dim_indicator")
        steward = read_steward(conn)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_assets(out_dir)
    write_dbt_docs(wh, out_dir)
    published = _time(summary_.published_at)
    for board in boards:
        html = render_dashboard(board, results[board.id], boards, published)
        (out_dir / f"{board.id}.html").write_text(html, encoding="utf-8")
    (out_dir / "indicators.html").write_text(render_indicators(indicators, boards), encoding="utf-8")
    (out_dir / "steward.html").write_text(render_steward(steward, boards), encoding="utf-8")
    index = out_dir / "index.html"
    index.write_text(render_index(summary_, gate_status(), boards, results), encoding="utf-8")
    return index

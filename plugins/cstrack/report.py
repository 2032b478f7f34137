"""The static report: one HTML file, charts as inline SVG, read from `marts` as `cstrack_reporter`.

It works from file:// with no server and no network.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape
from pathlib import Path

from cstrack import config, warehouse
from cstrack.errors import CstrackError

QUERIES = {
    "by_status": """
        select coalesce(status, 'not given') as label, count(*) as n
        from marts.dim_project group by 1 order by 2 desc, 1""",
    "by_country": """
        select country_name || ' (' || country_code || ')' as label, count(distinct project_key) as n
        from marts.bridge_project_country group by 1 order by 2 desc, 1 limit 15""",
    "by_source": """
        select source_system, count(*) as projects, count(status) as with_status,
               count(start_year) as with_start_year, max(loaded_at) as loaded_at
        from marts.dim_project group by 1 order by 1""",
    "refresh": "select published_at, table_rows from marts.refresh_info",
}


def read_marts(wh: warehouse.Warehouse) -> dict[str, list[tuple]]:
    with warehouse.connect(wh) as conn:
        conn.execute("set role cstrack_reporter")  # the report sees what Metabase sees, nothing more
        missing = conn.execute("select to_regclass('marts.dim_project') is null").fetchone()[0]
        if missing:
            raise CstrackError("no published marts yet: run `cstrack build` (or `cstrack refresh`) first")
        return {name: conn.execute(query).fetchall() for name, query in QUERIES.items()}


def bar_chart(title: str, rows: list[tuple], chart_id: str) -> str:
    """Horizontal bars as inline SVG with a text table fallback for screen readers."""
    if not rows:
        return f'<figure id="{chart_id}"><figcaption>{escape(title)}</figcaption><p>No data.</p></figure>'
    top = max(n for _, n in rows) or 1
    bar_h, label_w, width = 24, 230, 640
    bars = []
    for i, (label, n) in enumerate(rows):
        y = i * bar_h
        w = max(1, round((width - label_w - 60) * n / top))
        bars.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(str(label))}</text>'
            f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{w}" height="{bar_h - 8}"><title>{escape(str(label))}: {n}</title></rect>'
            f'<text x="{label_w + w + 6}" y="{y + 16}">{n}</text>'
        )
    height = bar_h * len(rows)
    return (
        f'<figure id="{chart_id}" class="chart"><figcaption>{escape(title)}</figcaption>'
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
        + "".join(bars)
        + "</svg></figure>"
    )


def source_credits(sources) -> list[str]:
    """Attribution of each published catalogue, from its mapping (`credit`, else title and licence)."""
    from cstrack.sources.catalogue import Mapping

    folder = config.project_dir() / "catalogues"
    return [Mapping.load(folder / f"{s}.yml").credit if (folder / f"{s}.yml").exists() else s for s in sources]


def render(data: dict[str, list[tuple]]) -> str:
    total = sum(n for _, n in data["by_status"])
    published_at = data["refresh"][0][0] if data["refresh"] else None
    source_rows = "".join(
        f"<tr><td>{escape(s)}</td><td>{p}</td><td>{ws}</td><td>{wy}</td><td>{la:%Y-%m-%d %H:%M UTC}</td></tr>"
        for s, p, ws, wy, la in data["by_source"]
    )
    generated = datetime.now(timezone.utc)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>CS Track warehouse report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 960px; color: #1d2733; }}
.banner {{ background: #eef5ee; border-left: 4px solid #2e7d32; padding: .6rem 1rem; }}
.chart text {{ font-size: 13px; fill: #1d2733; }} .bar {{ fill: #3b6ea5; }}
table {{ border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #ccd; padding: .3rem .8rem; text-align: left; }}
figcaption {{ font-weight: 600; margin: 1rem 0 .4rem; }}
</style></head>
<body>
<h1>Citizen-science projects in the CS Track warehouse</h1>
<p class="banner" id="freshness">Published {published_at:%Y-%m-%d %H:%M UTC} after passing the quality gate ·
<strong id="total-projects">{total}</strong> projects · report generated {generated:%Y-%m-%d %H:%M UTC} ·
<a id="data-docs" href="../quality/data_docs/index.html">what was checked (GX Data Docs)</a></p>
{bar_chart("Projects by status (PPSR)", data["by_status"], "chart-status")}
{bar_chart("Projects by country (top 15)", data["by_country"], "chart-country")}
<h2>Counts by source</h2>
<table id="counts"><thead><tr><th>source</th><th>projects</th><th>with status</th><th>with start year</th><th>loaded</th></tr></thead>
<tbody>{source_rows}</tbody></table>
<p id="credits">Sources: {escape("; ".join(source_credits(s for s, *_ in data["by_source"])))}.</p>
</body></html>
"""


def write_report(wh: warehouse.Warehouse | None = None, out_dir: Path | None = None) -> Path:
    wh = wh or warehouse.current()
    out_dir = out_dir or config.report_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    path.write_text(render(read_marts(wh)), encoding="utf-8")
    return path

"""The static report in a real browser: headless Chromium (Debian package `chromium`, driven by
Playwright) opens every page from file:// with the network cut off, on marts built from the sample
data. A console error, an uncaught exception, a request that leaves the machine, a chart that
vega-embed did not draw or an empty table fails the test. Screenshots of every page are saved."""

from __future__ import annotations

import json
import re
from datetime import UTC
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from cstrack import warehouse
from cstrack.errors import QualityGateFailed
from cstrack.quality import gates
from cstrack.serve import dashboards, maps, report

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
    "--no-first-run", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def site(demo_warehouse, tmp_path_factory):
    """The report written from the demo warehouse (every sample source, built once per session)."""
    with pytest.MonkeyPatch.context() as env:
        for key, value in demo_warehouse.env.items():
            env.setenv(key, value)
        index = report.write_report(demo_warehouse.wh)
        yield {
            "wh": demo_warehouse.wh,
            "dir": index.parent,
            "home": demo_warehouse.home,
            "shots": tmp_path_factory.mktemp("report-screenshots"),
        }


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Chromium with a fresh profile; every request that is not a local file is refused and recorded."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: the browser test needs Chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        context.outside = []  # URLs the pages tried to fetch from the network

        def refuse_network(route):
            if urlparse(route.request.url).scheme in ("file", "data", "about", "blob"):
                route.continue_()
            else:
                context.outside.append(route.request.url)
                route.abort()

        context.route("**/*", refuse_network)
        yield context
        context.close()


def open_page(browser, path: Path, problems: list[str], console_errors: bool = True, fragment: str = ""):
    """Open a page; record console errors and warnings, uncaught exceptions and failed requests."""
    page = browser.new_page()
    if console_errors:
        page.on(
            "console",
            lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None,
        )
    page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(path.as_uri() + fragment)
    return page


def test_every_report_page_renders_offline(site, browser):
    boards = dashboards.load_dashboards()
    pages = sorted(site["dir"].glob("*.html"))
    assert {p.name for p in pages} == {"index.html", "indicators.html", "steward.html"} | {
        f"{b.id}.html" for b in boards
    }
    for path in pages:
        problems: list[str] = []
        page = open_page(browser, path, problems)
        # vega-embed marks each chart container when it has drawn it (or failed to)
        page.wait_for_function("[...document.querySelectorAll('.vega-chart')].every(e => e.dataset.rendered)")
        page.screenshot(path=str(site["shots"] / f"{path.stem}.png"), full_page=True)
        state = page.evaluate(
            """() => ({
                charts: [...document.querySelectorAll('.vega-chart')].map(e => ({
                    id: e.id, rendered: e.dataset.rendered, marks: e.querySelectorAll('svg g.role-mark path').length})),
                tables: [...document.querySelectorAll('table')].map(t => ({
                    id: t.id, rows: t.querySelectorAll('tbody tr').length})),
                cards: [...document.querySelectorAll('section.card')].map(c => ({
                    id: c.id, display: c.dataset.display,
                    chart: !!c.querySelector('.vega-chart'), table: !!c.querySelector('table'),
                    scalar: (c.querySelector('.scalar') || {}).textContent,
                    missing: (c.querySelector('.missing code') || {}).textContent,
                    empty: !!c.querySelector('.empty')})),
            })"""
        )
        page.close()
        assert problems == [], f"{path.name}: {problems}"
        for chart in state["charts"]:
            assert chart["rendered"] == "yes" and chart["marks"] > 0, (
                f"{path.name}: chart {chart['id']} not drawn: {chart}"
            )
        for table in state["tables"]:
            assert table["rows"] > 0, f"{path.name}: table {table['id']} has no rows"
        board = next((b for b in boards if f"{b.id}.html" == path.name), None)
        if board is not None:
            assert [c["id"] for c in state["cards"]] == [f"card-{c.id}" for c in board.cards]
            for card in state["cards"]:
                kind = {"table": "table", "scalar": "scalar"}.get(card["display"], "chart")
                assert card[kind] or card["missing"] or card["empty"], f"{path.name}: {card}"
                if card["missing"]:  # "not published yet" only for a mart that really is not there
                    exists = warehouse_query(site["wh"], "select to_regclass(%s) is not null", (card["missing"],))
                    assert not exists, f"{path.name}: {card['id']} says {card['missing']} is missing"
    assert browser.outside == [], f"the report fetched from the network: {browser.outside}"
    print(f"screenshots: {site['shots']}")


def test_maps_draw_a_shape_per_country_with_data_offline(site, browser):
    """Every map card (cs_landscape, data_practices): one labelled shape per country with data, drawn from the
    bundled geometry from file:// with the network cut; countries with data outside the frame are named."""
    seen = 0
    for board in dashboards.load_dashboards():
        cards = [card for card in board.cards if card.display == "map"]
        if not cards:
            continue
        problems: list[str] = []
        page = open_page(browser, site["dir"] / f"{board.id}.html", problems)
        page.wait_for_function("[...document.querySelectorAll('.vega-chart')].every(e => e.dataset.rendered)")
        for card in cards:
            with warehouse.connect(site["wh"]) as conn:
                warehouse.as_reporter(conn)
                result = report.run_card(conn, board, card)
            values = {row[result.columns.index(card.x)]: row[result.columns.index(card.y[0])] for row in result.rows}
            labels = page.eval_on_selector_all(
                f"#chart-{card.id} svg path[aria-label]", "els => els.map(e => e.getAttribute('aria-label'))"
            )
            with_data = {label.split(" (")[1].split(")")[0]: label for label in labels if not label.endswith("no data")}
            assert len(labels) > 200, f"{board.id}/{card.id}: the countries without data are drawn too"
            assert set(with_data) == set(values), f"{board.id}/{card.id}: {sorted(with_data)} != {sorted(values)}"
            for code, label in with_data.items():  # the value, with its unit
                assert label.endswith(": " + report.with_unit(values[code], card.unit(card.y[0]))), label
                assert card.unit(card.y[0]) and label.split(": ")[1] != str(values[code])
            note = page.locator(f"#outside-{card.id}")
            outside = {code for code in values if maps.countries()[code].continent != "Europe"}
            if outside:  # the frame is Europe: the others are named under the map
                assert all(f"{code} (" in note.inner_text() for code in outside)
            seen += 1
        page.close()
        assert problems == [], f"{board.id}: {problems}"
    assert seen >= 2, "cs_landscape and data_practices each have a map"
    assert browser.outside == []


def test_steward_page_shows_the_last_run_and_links_the_checks(site, browser, tmp_path):
    """The data steward's page: the tasks of the latest run of each DAG (ops.task_run, as Airflow tasks write
    it) with a banner for a failure, the quarantine by source and field, and links into the GX Data Docs."""
    with warehouse.connect(site["wh"]) as conn:
        conn.execute(
            "insert into ops.task_run (dag_id, run_id, task_id, attempt, state, started_at, finished_at, rows_read,"
            " rows_loaded, rows_quarantined, message) values"
            " ('warehouse_refresh', 'manual__1', 'load_social', 1, 'success', now() - interval '2 hours',"
            "  now() - interval '2 hours', 10, 10, 0, null),"
            " ('warehouse_refresh', 'manual__2', 'load_social', 1, 'success', now() - interval '70 s',"
            "  now() - interval '60 s', 900, 897, 3, null),"
            " ('warehouse_refresh', 'manual__2', 'load_surveys', 1, 'failed', now() - interval '65 s',"
            "  now() - interval '64 s', null, null, null, 'cannot connect'),"  # retried, then succeeded
            " ('warehouse_refresh', 'manual__2', 'load_surveys', 2, 'success', now() - interval '55 s',"
            "  now() - interval '54 s', 0, 0, 0, null),"
            " ('warehouse_refresh', 'manual__2', 'build_marts', 1, 'failed', now() - interval '50 s', now(),"
            "  null, null, null, 'quality gate marts_gate failed: a secret value')"
        )
    try:
        report.write_report(site["wh"], out_dir=tmp_path)
    finally:
        with warehouse.connect(site["wh"]) as conn:
            conn.execute("delete from ops.task_run where run_id in ('manual__1', 'manual__2')")
    problems: list[str] = []
    page = open_page(browser, tmp_path / "steward.html", problems)
    rows = page.eval_on_selector_all(
        "#steward-tasks tbody tr", "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
    )
    assert [(r[1], r[2], r[3], r[6], r[8]) for r in rows] == [
        ("load_social", "1", "success", "900", "3"), ("load_surveys", "1", "failed", "", ""),
        ("load_surveys", "2", "success", "0", "0"), ("build_marts", "1", "failed", "", ""),
    ]  # fmt: skip
    assert "1 task(s) failed" in page.inner_text("#failed-tasks")  # a retry that succeeded is not a failure
    assert "a secret value" not in page.content()  # messages stay in ops
    assert page.locator("#steward-quarantine tbody tr").count() > 0
    hrefs = page.eval_on_selector_all(
        "#quarantine-checks a, #suite-docs a", "els => els.map(e => e.getAttribute('href'))"
    )
    assert "../quality/data_docs/expectations/raw/survey_answer.html" in hrefs
    assert "../quality/data_docs/expectations/raw/catalogue_record.html" in hrefs
    for href in hrefs:  # each is a page of the Data Docs the gates wrote beside the report
        assert (site["dir"] / href).resolve().is_file(), href
    page.close()
    assert problems == []


def test_key_figures_say_their_unit(site, browser):
    problems: list[str] = []
    page = open_page(browser, site["dir"] / "data_practices.html", problems)
    for card in ("data_url_share", "reusable_share", "mean_completeness"):
        assert re.fullmatch(r"\d{1,3}\.\d %", page.inner_text(f"#card-{card} .scalar")), card
    assert re.fullmatch(r"[\d,]+ projects", page.inner_text("#card-projects_assessed .scalar"))
    headers = page.eval_on_selector_all("#table-least_complete_platforms th", "els => els.map(e => e.textContent)")
    assert headers[:3] == ["Platform", "Projects", "Completeness (%)"]
    page.close()
    assert problems == []


@pytest.mark.fast
def test_values_are_shown_with_their_unit():
    assert report.with_unit(0.597, "share") == "59.7 %" and report.with_unit(59.66, "percent") == "59.7 %"
    assert report.with_unit(699, "projects") == "699 projects" and report.with_unit(1234.0, "posts") == "1,234 posts"
    assert report.with_unit(3.456, "on a 1-5 scale") == "3.46 on a 1-5 scale"
    assert report.with_unit(None, "share") == "" and report.with_unit(12, None) == "12"


def test_overview_banner_links_and_catalogue(site, browser):
    problems: list[str] = []
    page = open_page(browser, site["dir"] / "index.html", problems)
    published = warehouse_query(site["wh"], "select published_at from marts.refresh_info")
    assert f"Published {published.astimezone(UTC):%Y-%m-%d %H:%M} UTC" in page.inner_text("#freshness")
    assert "quality gate" in page.inner_text("#gate-status") and "passed" in page.inner_text("#gate-status")
    projects = warehouse_query(site["wh"], "select count(*) from marts.dim_project")
    assert page.inner_text("#total-projects") == str(projects)
    assert page.inner_text("#credits").startswith("Sources: ")
    # every relative link of every page leads to a file of the site (or the GX Data Docs beside it)
    for path in sorted(site["dir"].glob("*.html")):
        other = open_page(browser, path, problems)
        for href in other.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            target = Path(unquote(urlparse(href).path))
            assert target.is_file(), f"{path.name}: broken link {href}"
        other.close()
    page.close()
    assert problems == []

    catalogue = open_page(browser, site["dir"] / "indicators.html", problems)
    codes = {c for (c,) in warehouse_rows(site["wh"], "select indicator_code from marts.dim_indicator")}
    shown = set(
        catalogue.eval_on_selector_all(
            "#indicator-catalogue tbody tr td:first-child", "els => els.map(e => e.textContent)"
        )
    )
    assert codes and shown == codes
    catalogue.close()


def test_dbt_docs_site_opens_offline(site, browser):
    problems: list[str] = []
    # dbt's own docs page logs console errors from file:// (its <img src="{{ getIcon(..) }}"> templates are
    # fetched before Angular fills them in): only uncaught exceptions and failed requests count here
    docs = site["dir"] / "dbt-docs" / "index.html"
    page = open_page(browser, docs, problems, console_errors=False, fragment="#!/model/model.cstrack.dim_project")
    manifest = json.loads((site["home"] / "dbt" / "docs-target" / "manifest.json").read_text())
    described = manifest["nodes"]["model.cstrack.dim_project"]["columns"]["project_key"]["description"]
    assert described
    # the model page with its column descriptions, for analysts (cells truncate long texts: compare the start)
    page.wait_for_function("text => document.body.innerText.includes(text)", arg=described[:20], timeout=10_000)
    page.screenshot(path=str(site["shots"] / "dbt-docs.png"))
    page.close()
    assert [p for p in problems if not p.startswith("request failed: file://")] == []
    assert browser.outside == []


def test_partial_warehouse_shows_unpublished_marts_as_notes(site, browser, tmp_path):
    """A mart that is not there (yet) is a note on its cards and on the catalogue page, never a crash."""
    hidden = ("bridge_project_topic", "dim_indicator")
    with warehouse.connect(site["wh"]) as conn:
        for table in hidden:
            conn.execute(f"alter table marts.{table} rename to {table}_hidden")
    try:
        report.write_report(site["wh"], out_dir=tmp_path)
    finally:
        with warehouse.connect(site["wh"]) as conn:
            for table in hidden:
                conn.execute(f"alter table marts.{table}_hidden rename to {table}")
    problems: list[str] = []
    page = open_page(browser, tmp_path / "cs_landscape.html", problems)
    page.wait_for_function("[...document.querySelectorAll('.vega-chart')].every(e => e.dataset.rendered)")
    assert page.inner_text("#card-projects_by_topic .missing") == (
        "Not published yet: marts.bridge_project_topic is not in this warehouse."
    )
    assert page.locator("#card-projects_by_country .vega-chart svg").count() == 1  # the other cards still draw
    page.close()
    catalogue = open_page(browser, tmp_path / "indicators.html", problems)
    assert "Not published yet: marts.dim_indicator" in catalogue.inner_text("main")
    catalogue.close()
    assert problems == []


def test_banner_says_when_the_last_quality_gate_failed(site, browser, tmp_path):
    """A candidate that fails the marts gate is not published: the banner says so above the last good figures."""
    with warehouse.connect(site["wh"]) as conn:
        conn.execute("drop schema if exists marts_build cascade")  # what the last publish left for the next build
        conn.execute("create schema marts_build")
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
            " and table_type in ('BASE TABLE', 'VIEW')"  # rpt_task_runs is a view
        ).fetchall()
        for (table,) in tables:
            conn.execute(f'create table marts_build."{table}" as table marts."{table}"')
        conn.execute("insert into marts_build.dim_project select * from marts.dim_project limit 1")  # a duplicate key
    try:
        with pytest.raises(QualityGateFailed):
            gates.validate_marts(site["wh"])
        report.write_report(site["wh"], out_dir=tmp_path)
    finally:
        with warehouse.connect(site["wh"]) as conn:
            conn.execute("drop schema marts_build cascade")
    problems: list[str] = []
    page = open_page(browser, tmp_path / "index.html", problems)
    assert "failed" in page.get_attribute("#freshness", "class")
    status = page.inner_text("#gate-status")
    assert status.startswith("The last quality gate (marts_gate, ") and " failed: 1 critical of " in status
    assert "Nothing was published" in status
    page.close()
    assert problems == []


def warehouse_query(wh, sql: str, params=()):
    return warehouse_rows(wh, sql, params)[0][0]


def warehouse_rows(wh, sql: str, params=()):
    with warehouse.connect(wh) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.mark.fast
def test_map_rows_without_a_shape_are_named_not_dropped():
    """Kosovo (no ISO numeric id, no shape in the geometry), an unknown code and a null country: the map
    draws what it can, names the rest under it, and skips a row that names no country at all."""
    rows = [{"country_code": "NL", "n": 5}, {"country_code": "XK", "n": 7}, {"country_code": "ZZ", "n": 2},
            {"country_code": None, "n": 9}, {"country_code": "US", "n": 3}, {"country_code": "CY", "n": 6}]  # fmt: skip
    data = maps.map_data(rows, "country_code", "n", lambda row: f"{row['n']} projects")
    assert [r["country_code"] for r in data.rows] == ["NL", "US", "CY"] and data.europe
    assert data.rows[0]["map_label"] == "Netherlands (NL): 5 projects"
    # US is off the European frame; Cyprus is drawn in it; XK and ZZ have no shape; the null row is skipped
    assert data.outside == ["US (3 projects)", "XK (7 projects, no map shape)", "ZZ (2 projects, no map shape)"]

"""The whole refresh through Airflow (`airflow dags test`), on the embedded warehouse and on the
PostgreSQL server at 127.0.0.1:5432; the quality gate stops a bad batch and leaves marts untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

from cstrack import warehouse

PROJECT = Path(__file__).resolve().parents[1]
SAMPLE = PROJECT / "data" / "sample"
PPSR = {"not_started", "active", "periodically_active", "on_hold", "completed", "abandoned"}
MARTS = (
    "dim_project", "bridge_project_source", "bridge_project_country", "bridge_project_sdg", "fct_indicator_value",
    "fct_survey_response", "agg_survey_construct_by_segment", "fct_social_post", "agg_social_engagement_monthly",
)  # fmt: skip
PROJECTS = 699  # 409 + 231 catalogue rows and 60 + 24 crawled demo projects, 25 of them resolved into others


def mart_checksums(query, wh) -> dict[str, str]:
    return {
        table: query(wh, f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from marts.{table} t")[
            0
        ][0]
        for table in MARTS
    }


def assert_published_catalogues(query, wh):
    assert query(wh, "select count(*) from marts.dim_project")[0][0] == PROJECTS
    by_source = dict(query(wh, "select source_system, count(*) from marts.bridge_project_source group by 1"))
    assert by_source == {
        "citizenscience_gov": 409, "awesome_cs_nl": 231, "demo_eu_citizen_science": 60, "demo_buerger_forschen": 24
    }  # fmt: skip
    statuses = {s for (s,) in query(wh, "select distinct status from marts.dim_project")}
    assert statuses - {None} <= PPSR and {"active", "periodically_active", "completed"} <= statuses
    # the dirty variants of the real export (`Active`, `active\n`, `active_but_seasonal`) are mapped
    dirty = query(
        wh,
        """select count(*) filter (where status = 'active'), count(*) filter (where status = 'periodically_active')
                         from intermediate.int_catalogue__records where source_system = 'citizenscience_gov'""",
    )[0]
    assert dirty == (239 + 2 + 1, 19)
    countries = dict(query(wh, "select country_code, count(*) from marts.bridge_project_country group by 1"))
    assert countries["US"] >= 409 and countries["NL"] >= 224
    # the other sources of the demo are published too
    assert query(wh, "select count(distinct (survey, wave, respondent_key)) > 500 from marts.fct_survey_response")[0][0]
    assert query(wh, "select count(*) from marts.fct_social_post")[0][0] == 900


def test_refresh_on_embedded_warehouse(home, cstrack, query):
    started = cstrack("warehouse", "start", check=True)
    assert "warehouse started" in started.stdout
    assert "already running" in cstrack("warehouse", "start", check=True).stdout
    first = cstrack("refresh", "--plain", check=True)
    assert f"published {PROJECTS} projects" in first.stdout
    # quiet: one line per task, then what was published and where to look (issue 16: at most about 40 lines)
    lines = first.stdout.splitlines()
    assert len(lines) <= 40, first.stdout
    assert lines[-3].startswith("published ") and lines[-1] == f"report: {home / 'report' / 'index.html'}"
    tasks = [line.split()[0] for line in lines if " success " in line]
    assert sorted(tasks) == sorted(
        ["crawl_platforms", "load_catalogues", "load_surveys", "load_social", "plan_social_enrichment",
         "enrich_social[0]", "enrich_social[1]", "publish_social", "build_marts", "write_report", "export_ppsr",
         "sync_metabase"]
    ), first.stdout  # fmt: skip
    assert "both quality gates passed" in first.stdout and "rows read" in first.stdout
    logs = Path(lines[-4].removeprefix("logs: "))
    assert logs.parent == home / "logs" and "Completed successfully" in (logs / "airflow.log").read_text()  # dbt's
    assert "Bulk-writing dags" not in first.stdout and "Deprecat" not in first.stdout
    wh = warehouse.current()
    assert wh.host.startswith(str(home))  # a Unix socket under $CSTRACK_HOME: no TCP port
    assert_published_catalogues(query, wh)
    report = home / "report" / "index.html"
    assert report.exists() and f'<strong id="total-projects">{PROJECTS}</strong>' in report.read_text()
    assert 'href="../quality/data_docs/index.html"' in report.read_text()
    assert "sodascience, Awesome Citizen Science NL (CC BY 4.0)" in report.read_text()  # the licence's credit line
    docs = home / "quality" / "data_docs" / "index.html"
    assert docs.exists() and "marts.dim_project" in docs.read_text()

    second = cstrack("refresh", check=True)  # idempotent: nothing loads twice, same counts
    assert "already loaded" in second.stdout and f"published {PROJECTS} projects" in second.stdout
    assert query(wh, "select count(*) from raw.catalogue_record")[0][0] == 640 + 84

    assert "stopped" in cstrack("warehouse", "stop", check=True).stdout
    assert "stopped" in cstrack("warehouse", "status", check=True).stdout
    cstrack("warehouse", "start", check=True)  # data survives stop/start
    assert query(warehouse.current(), "select count(*) from marts.dim_project")[0][0] == PROJECTS


def test_refresh_on_postgres_server(server_db, cstrack, query):
    done = cstrack("refresh", check=True)  # WAREHOUSE_URL points at a fresh database on 127.0.0.1:5432
    assert f"published {PROJECTS} projects" in done.stdout
    assert_published_catalogues(query, server_db)
    migrations = [v for (v,) in query(server_db, "select version from ops.schema_migration order by 1")]
    assert migrations == sorted(p.stem for p in (PROJECT / "plugins" / "cstrack" / "migrations").glob("*.sql"))
    assert migrations[:6] == [
        "0001_schemas",
        "0002_roles",
        "0003_crawl",
        "0004_survey",
        "0005_social",
        "0006_incremental",
    ]


def test_quality_gate_failure_names_expectation_and_keeps_marts(server_db, cstrack, query):
    cstrack("refresh", "--no-airflow", check=True)
    before = mart_checksums(query, server_db)

    # an impossible value (a post dated 1 BC) that got past the loader, which quarantines such posts: an unusual
    # one (a project year 1066) no longer stops the publish, it is nulled with its reason (test_quality_policy)
    with warehouse.connect(server_db) as conn:
        conn.execute(
            "update raw.social_post set posted_at = '0001-06-01 00:00+00 BC' where (platform, post_id) ="
            " (select platform, post_id from raw.social_post order by platform, post_id limit 1)"
        )
    failed = cstrack("build", "--full-refresh")
    assert failed.returncode != 0
    message = failed.stderr.strip().splitlines()[-1]
    assert "quality gate marts_gate failed" in message
    assert "suite marts.fct_social_post" in message
    assert "posts are dated from 2006-03-21" in message and "observed 1" in message
    assert mart_checksums(query, server_db) == before  # the last published marts are untouched
    recorded = query(server_db, "select suite, success, critical_failed from ops.quality_result where not success")
    assert recorded == [("marts.fct_social_post", False, 1)]
    checked = {s for (s,) in query(server_db, "select distinct suite from ops.quality_result")}
    assert {"raw.catalogue_record", "raw.survey_answer", "raw.social_post", "marts.dim_project",
            "marts.fct_indicator_value", "marts.fct_social_post"} <= checked  # fmt: skip


def test_raw_gate_warns_when_a_source_shrinks_by_more_than_half(server_db, cstrack, query, tmp_path):
    cstrack("refresh", "--no-airflow", check=True)
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLE, inbox)
    shrunk = inbox / "catalogues" / "awesome_cs_nl.csv"
    shrunk.write_text("".join(shrunk.read_text(encoding="utf-8").splitlines(keepends=True)[:51]), encoding="utf-8")

    done = cstrack("refresh", "--no-airflow", env={"CSTRACK_INBOX": str(inbox)}, check=True)  # a warning, not a stop
    assert "quality raw.catalogue_record: 6/7 passed, 1 warnings" in done.stdout
    summary = query(server_db, "select summary from ops.quality_result where suite = 'raw.catalogue_record'"
                               " and failed > 0")[0][0]  # fmt: skip
    assert summary[0]["expectation"] == "unexpected_rows_expectation" and summary[0]["severity"] == "warning"
    assert summary[0]["description"].startswith("volume:")
    assert (
        query(server_db, "select count(*) from marts.bridge_project_source where source_system = 'awesome_cs_nl'")[0][0]
        == 50
    )

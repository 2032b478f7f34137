"""The quality policy publishes real data: critical expectations guard what must never be published, an
unusual value is nulled with its reason or published with a warning. A catalogue export with historic
start years (1736, 1762), a typo (1500), a placeholder (2999) and an end before its start still publishes,
on a real PostgreSQL with a real dbt build and the committed GX gates."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

from cstrack import warehouse
from cstrack.errors import QualityGateFailed
from cstrack.ingest.catalogue import load_catalogue
from cstrack.publish import marts
from cstrack.quality import gates, suites

SERVER = os.environ.get("CSTRACK_TEST_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
FIXTURES = Path(__file__).parent / "fixtures" / "quality"


def run_query(wh, sql: str, params=()):
    with warehouse.connect(wh) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def inventory_wh():
    """A fresh database with the inventory export loaded and built: the build must publish."""
    name = f"cstrack_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    home = Path(tempfile.mkdtemp(prefix="cst-qp-"))
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WAREHOUSE_URL", url)
        mp.setenv("CSTRACK_HOME", str(home))
        wh = warehouse.Warehouse.from_url(url)
        warehouse.migrate(wh)
        load_catalogue(FIXTURES / "eu_inventory.yml", FIXTURES / "eu_inventory.csv", wh)
        marts.build(wh)  # raises QualityGateFailed if an unusual value stopped the publish
        yield wh
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')
    shutil.rmtree(home, ignore_errors=True)


def published(wh) -> dict[str, tuple]:
    rows = run_query(
        wh,
        "select b.source_record_id, p.start_year, p.start_date, p.end_year, p.date_rejected_reason"
        " from marts.dim_project p join marts.bridge_project_source b using (project_key)",
    )
    return {r[0]: r[1:] for r in rows}


def test_historic_start_years_publish(inventory_wh):
    projects = published(inventory_wh)
    assert len(projects) == 6  # every project of the export, none held back
    assert projects["EI-001"] == (1736, None, None, None)  # start year, start date, end year, reason
    assert projects["EI-002"] == (1762, None, None, None)
    assert projects["EI-005"] == (2015, None, 2018, None)  # an ordinary project is untouched


def test_impossible_years_are_nulled_with_their_reason(inventory_wh):
    projects = published(inventory_wh)
    next_year_plus_10 = int(run_query(inventory_wh, "select extract(year from current_date)::int + 11")[0][0])
    for record, year in (("EI-003", 1500), ("EI-004", 2999)):
        start_year, start_date, _, reason = projects[record]
        assert start_year is None and start_date is None
        assert reason == f"start year {year} outside 1600..{next_year_plus_10}"
    # what the source wrote stays readable beside the reason
    raw = dict(
        run_query(inventory_wh, "select source_record_id, start_date_raw from intermediate.int_catalogue__records")
    )
    assert raw["EI-003"] == "1500" and raw["EI-004"] == "2999"


def test_unusual_values_are_published_with_warnings(inventory_wh):
    # the end before its start publishes as given; the gate records both warnings and passes
    assert published(inventory_wh)["EI-006"] == (2019, None, 2012, None)
    success, critical, summary = run_query(
        inventory_wh,
        "select success, critical_failed, summary::text from ops.quality_result"
        " where suite = 'marts.dim_project' order by result_id desc limit 1",
    )[0]
    assert success and critical == 0
    assert "date_rejected_reason" in summary and "does not end before it starts" in summary


@pytest.mark.parametrize("posted_at", ["0001-06-01 00:00+00 BC", "10000-01-01 00:00+00", "2006-03-20 23:00+00"])
def test_a_post_dated_outside_2006_to_tomorrow_stops_the_marts_gate(inventory_wh, posted_at):
    """The social loader quarantines such posts; one that reached the candidate marts would break every
    social card of the report, so the marts gate refuses to publish it."""
    wh = inventory_wh
    with warehouse.connect(wh) as conn:
        conn.execute(
            "insert into marts_build.fct_social_post (post_key, platform, post_id, posted_at, posted_month, kind,"
            " author_pseudonym, last_commit_seq) values ('bad', 'mastodon', '1', %s::timestamptz,"
            " date_trunc('month', %s::timestamptz)::date, 'original', 'p', 1000000000)",
            (posted_at, posted_at),
        )
    try:
        with pytest.raises(QualityGateFailed, match=r"fct_social_post.*2006-03-21.*observed 1"):
            gates.validate_marts(wh, {"fct_social_post"})
    finally:
        with warehouse.connect(wh) as conn:
            conn.execute("delete from marts_build.fct_social_post where post_key = 'bad'")
    assert run_query(wh, "select count(*) from marts.fct_social_post")[0][0] == 0


def test_two_pseudonyms_sharing_an_author_key_stop_the_marts_gate(inventory_wh):
    """The distinct-authors card counts 64-bit author keys: a key two pseudonyms share would undercount, so the
    gate refuses it. The check reads only the recomputed authors (last_commit_seq above ops.gate_scope)."""
    wh = inventory_wh
    first, second = "0123456789abcdef" + "1" * 48, "0123456789abcdef" + "2" * 48  # the same first 64 bits
    with warehouse.connect(wh) as conn:
        for pseudonym in (first, second):
            conn.execute(
                "insert into marts_build.agg_social_authors_monthly (month, project_key, author_pseudonym, posts,"
                " last_commit_seq) values ('2024-01-01', null, %s, 1, 1000000000)",
                (pseudonym,),
            )
        conn.execute(
            "insert into marts_build.agg_social_author_reach (project_key, author_key, last_month, posts,"
            " last_commit_seq) values (null, ('x0123456789abcdef')::bit(64)::bigint, '2024-01-01', 2, 1000000000)"
        )
    try:
        with pytest.raises(QualityGateFailed, match=r"agg_social_author_reach.*one author_key per pseudonym"):
            gates.validate_marts(wh, {"agg_social_author_reach"})
        with warehouse.connect(wh) as conn:  # one pseudonym per key: the same rows pass
            conn.execute("delete from marts_build.agg_social_authors_monthly where author_pseudonym = %s", (second,))
        gates.validate_marts(wh, {"agg_social_author_reach"})
    finally:
        with warehouse.connect(wh) as conn:
            conn.execute("delete from marts_build.agg_social_authors_monthly where last_commit_seq = 1000000000")
            conn.execute("delete from marts_build.agg_social_author_reach where last_commit_seq = 1000000000")


@pytest.mark.fast
def test_no_critical_expectation_holds_a_fixed_year_range():
    """Year bounds move with the calendar and are enforced in dbt: a fixed critical range (1800..2100
    refused the whole publish for two real projects) must not come back."""
    for suite in suites.suites():
        for expectation in suite.expectations:
            column = getattr(expectation, "column", None) or ""
            if expectation.meta["severity"] == "critical" and "year" in column:
                assert expectation.expectation_type != "expect_column_values_to_be_between", (suite.name, column)

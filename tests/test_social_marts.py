"""Social marts from the hand-written fixtures: one real dbt build of the whole project into `marts` for the
module (not publish.build: the marts gate also wants survey data, which is not this module's business),
then one narrower build after a newer observation of a post. Real PostgreSQL server, real dbt."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

from cstrack import warehouse
from cstrack.ingest.catalogue import load_catalogue_inbox
from cstrack.ingest.social.load import load_social
from cstrack.transform import dbt

FIXTURES = Path(__file__).parent / "fixtures" / "social"
SERVER = os.environ.get("CSTRACK_TEST_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
FILES = [
    ("twitter_v2", "twitter_v2_page.json"),
    ("twitter_v2", "twitter_v2_pages.jsonl"),
    ("mastodon", "mastodon_statuses.json"),
    ("lynguo", "lynguo_export.csv"),
]


@pytest.fixture(scope="module")
def built():
    """Catalogues and social fixtures loaded into a fresh database, built and published once."""
    patch = pytest.MonkeyPatch()
    home = Path(tempfile.mkdtemp(prefix="cst-"))
    name = f"cstrack_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    patch.setenv("CSTRACK_HOME", str(home))
    patch.setenv("WAREHOUSE_URL", url)
    patch.setenv("CSTRACK_PSEUDONYM_KEY", "social-marts-test")
    patch.delenv("CSTRACK_INBOX", raising=False)
    try:
        wh = warehouse.Warehouse.from_url(url)
        warehouse.migrate(wh)
        load_catalogue_inbox(wh)
        for format, file in FILES:
            load_social(format, FIXTURES / file, wh)
        dbt.run_dbt(["build"], wh, marts_schema="marts")
        yield wh
    finally:
        patch.undo()
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
        shutil.rmtree(home, ignore_errors=True)


def rows(wh, sql, params=()):
    with warehouse.connect(wh) as conn:
        return conn.execute(sql, params).fetchall()


def project_of(wh, url_fragment: str) -> str:
    (key,) = rows(wh, "select project_key from marts.dim_project where url ilike %s", (f"%{url_fragment}%",))[0]
    return key


def test_one_row_per_post_with_kind_link_and_no_private_handle(built):
    wh = built
    assert rows(wh, "select count(*) from marts.fct_social_post") == [(17,)]
    assert rows(wh, "select count(*) = count(distinct (platform, post_id)) from marts.fct_social_post") == [(True,)]
    posts = {
        r[0]: r[1:]
        for r in rows(
            wh,
            "select post_id, kind, author_handle, project_key,"
            " link_method, is_withheld, engagement, language, sentiment"
            " from marts.fct_social_post where platform = 'twitter' and source_format = 'twitter_v2'",
        )
    }
    lichtmeting = project_of(wh, "globenederland.nl/onderzoeksprojecten/lichtmeting")
    scool = project_of(wh, "scool.larc.nasa.gov")
    libellen = project_of(wh, "tuintelling.nl/evenementen/libellentelling")
    assert posts["1700000000000000001"][:4] == ("original", "nl_lichtmeting_demo", lichtmeting, "account")
    assert posts["1700000000000000002"][:4] == ("repost", None, lichtmeting, "mention")
    assert posts["1700000000000000003"][:4] == ("quote", None, None, None)  # a link to a tweet is no project link
    assert posts["1700000000000000004"][:4] == ("reply", None, lichtmeting, "mention")
    assert posts["1700000000000000006"][2:4] == (scool, "url")  # http://SCOOL.larc.nasa.gov/ normalised
    assert posts["1700000000000000010"][2:4] == (libellen, "url")  # no scheme, www. or trailing slash difference
    assert posts["1700000000000000010"][5] == 9 + 1  # twice in one file: the later row is the latest observation
    assert posts["1700000000000000005"][4] is True
    assert posts["1700000000000000001"][5] == 12 + 4 + 1 + 1
    assert posts["1700000000000000004"][6:] == ("es", None)  # no sentiment outside English
    by_hashtag = rows(
        wh, "select project_key, link_method from marts.fct_social_post where post_id = '1700000000000000020'"
    )
    assert by_hashtag == [(lichtmeting, "hashtag")]  # Lynguo's copy of a tweet: #NationaleLichtmeting


def test_no_handle_or_text_of_a_private_account_in_any_mart(built):
    wh = built
    project_handles = {h.lower() for (h,) in rows(wh, "select lower(handle) from vocab.project_social_account")}
    handles = {
        h
        for (h,) in rows(
            wh,
            "select author_handle from raw.social_post where author_handle is not null"
            " union select unnest(mention_handles) from raw.social_post",
        )
        if h.lower() not in project_handles
    }
    texts = [t for (t,) in rows(wh, "select text from raw.social_post where text <> ''")]
    assert len(handles) >= 10 and len(texts) == 18
    columns = rows(
        wh,
        "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
        " and data_type in ('text', 'character varying', 'ARRAY', 'jsonb')",
    )
    assert {t for t, _ in columns} >= {
        "fct_social_post",
        "agg_social_hashtag_monthly",
        "agg_social_sdg_mentions",
        "dim_project",
    }
    patterns = [f"%{h}%" for h in handles]
    for table, column in columns:
        value = f'"{column}"::text'
        (hits,) = rows(
            wh,
            f'select count(*) from marts."{table}" where {value} ilike any(%s) or {value} = any(%s)',
            (patterns, texts),
        )[0]
        assert hits == 0, f"marts.{table}.{column} holds a private handle or a post's text"


def test_engagement_hashtag_and_sdg_aggregates(built):
    wh = built
    lichtmeting = project_of(wh, "globenederland.nl/onderzoeksprojecten/lichtmeting")
    march = rows(
        wh,
        "select posts, original_posts, reposts, unique_authors, engagement_sum, engagement_median"
        " from marts.agg_social_engagement_monthly where project_key = %s and month = '2024-03-01'",
        (lichtmeting,),
    )
    # the account's post (18), a retweet (4), and a Lynguo post without counts
    assert march == [(3, 2, 1, 3, 22, 11)]
    totals = rows(wh, "select sum(posts) from marts.agg_social_engagement_monthly")
    assert totals == [(17,)]
    hashtags = dict(
        ((m.isoformat()[:7], h), (p, a))
        for m, h, p, a in rows(wh, "select month, hashtag, posts, unique_authors from marts.agg_social_hashtag_monthly")
    )
    assert hashtags[("2024-03", "nationalelichtmeting")] == (3, 3)
    assert hashtags[("2024-04", "市民科学")] == (2, 2)  # a tweet and a Mastodon status, NFKC + case-folded
    assert ("2024-04", "bürgerwissenschaft") not in hashtags  # one author only: left out
    sdgs = {
        (m.isoformat()[:7], s): p for m, s, p in rows(wh, "select month, sdg, posts from marts.agg_social_sdg_mentions")
    }
    assert sdgs[("2024-03", 7)] == 2 and sdgs[("2024-03", 11)] == 1 and sdgs[("2024-04", 13)] == 1


def test_indicator_values(built):
    wh = built
    env = dbt.dbt_env(wh, marts_schema="marts")
    done = subprocess.run(
        [dbt.dbt_executable(), "--quiet", "show", "--output", "json", "--limit", "-1", "--inline",
         "select indicator_code, period, dimension, dimension_value, value, numerator, denominator, n, suppressed"
         " from {{ ref('int_social__indicator_values') }}"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    values = {
        (r["indicator_code"], r["period"], r["dimension"], r["dimension_value"]): r
        for r in json.loads(done.stdout)["show"]
    }
    assert len(values) == len(json.loads(done.stdout)["show"])  # unique keys
    assert values[("SOC_POSTS", "2024-03", "all", "all")]["n"] == 10
    linked = values[("SOC_LINKED_SHARE", "2024-03", "all", "all")]
    assert (linked["numerator"], linked["denominator"], float(linked["value"])) == (7, 10, 0.7)
    assert values[("SOC_SENTIMENT_EN", "2024-05", "all", "all")]["suppressed"] is True
    assert values[("SOC_SENTIMENT_EN", "2024-05", "all", "all")]["value"] is None
    codes = {c for c, *_ in values}
    catalogue = (Path(__file__).resolve().parents[1] / "dbt" / "seeds" / "indicator_catalogue.csv").read_text()
    assert all(f"\n{code}," in catalogue for code in codes)


def test_reingest_changes_nothing_and_a_newer_observation_updates_metrics(built, tmp_path):
    wh = built
    before = rows(wh, "select (select count(*) from raw.social_post), (select count(*) from ops.load_run)")
    for format, file in FILES:
        assert load_social(format, FIXTURES / file, wh).skipped
    assert rows(wh, "select (select count(*) from raw.social_post), (select count(*) from ops.load_run)") == before

    page = json.loads((FIXTURES / "twitter_v2_page.json").read_text(encoding="utf-8"))
    page["data"][0]["public_metrics"]["like_count"] = 40
    page["errors"] = []
    newer = tmp_path / "twitter_v2_page_later.json"
    newer.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
    result = load_social("twitter_v2", newer, wh)
    assert (result.rows_loaded, result.rows_quarantined) == (7, 0)

    dbt.run_dbt(["build", "--select", "@fct_social_post"], wh)
    schema = dbt.BUILD_SCHEMA
    post = rows(
        wh,
        "select like_count, engagement, n_observations from"
        f" {schema}.fct_social_post where post_id = '1700000000000000001'",
    )
    assert post == [(40, 40 + 4 + 1 + 1, 2)]
    assert rows(wh, f"select count(*), count(distinct (platform, post_id)) from {schema}.fct_social_post") == [(17, 17)]
    (total,) = rows(wh, f"select sum(posts) from {schema}.agg_social_engagement_monthly")[0]
    assert total == 17

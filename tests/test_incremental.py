"""Incremental builds (issue #8): a build after a new load folds in only the posts that load observed,
and ends with exactly the marts a full rebuild gives; loads carry their commit order."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cstrack import warehouse
from cstrack.ingest.catalogue import load_catalogue_inbox
from cstrack.ingest.social.load import load_social
from cstrack.publish import marts

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "social" / "twitter_v2_citizen_science_2024.jsonl"
STABLE = (  # every column of fct_social_post but the load times, which differ between any two runs
    "post_key, platform, post_id, kind, author_pseudonym, project_key, link_method, language, sentiment,"
    " like_count, repost_count, reply_count, quote_count, engagement, n_observations"
)


def fact(query, wh) -> list[tuple]:
    return query(wh, f"select {STABLE} from marts.fct_social_post order by post_key")


OPS_MARTS = {p.stem for p in (Path(__file__).resolve().parents[1] / "dbt/models/marts/ops").glob("*.sql")}


def marts_checksums(query, wh, schema: str = "marts") -> dict[str, str]:
    """Every table of `schema` but refresh_info and the ops marts (they record the builds themselves),
    without the load times, which differ between any two runs."""
    tables = [t for (t,) in query(wh, "select table_name from information_schema.tables where table_schema = %s"
                                      " and table_type = 'BASE TABLE' order by 1", (schema,))]  # fmt: skip
    sums = {}
    for table in tables:
        if table == "refresh_info" or table in OPS_MARTS:
            continue
        columns = [c for (c,) in query(wh, "select column_name from information_schema.columns where table_schema = %s"
                                           " and table_name = %s and column_name not in ('first_loaded_at',"
                                           " 'last_loaded_at', 'last_commit_seq') order by 1",
                                           (schema, table))]  # fmt: skip
        row = f"({', '.join(columns)})"
        sums[table] = query(wh, f"select count(*), md5(coalesce(string_agg({row}::text, '|' order by {row}::text), ''))"
                                f" from {schema}.{table}")[0]  # fmt: skip
    return sums


def test_incremental_build_equals_a_full_rebuild(server_db, query, tmp_path, capsys):
    load_catalogue_inbox(server_db)  # projects, so that posts link
    load_social("twitter_v2", SAMPLE, server_db)
    marts.build(server_db)
    assert "build plan: full build (no previous build state" in capsys.readouterr().out
    before = {row[0]: row for row in fact(query, server_db)}
    (first_seq,) = query(server_db, "select max(last_commit_seq) from intermediate.int_social__posts")[0]
    # the publish left marts_build equal to the published marts, for the next build to start from
    assert marts_checksums(query, server_db, "marts_build") == marts_checksums(query, server_db)

    # a later API page: the first page's posts again with more likes, and two new posts
    page = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    for post in page["data"]:
        post["public_metrics"]["like_count"] += 100
    for n, post in enumerate(page["data"][:2]):
        page["data"].append({**post, "id": f"1999999999999999{n:03d}"})
    later = tmp_path / "twitter_v2_later.jsonl"
    later.write_text(json.dumps(page) + "\n", encoding="utf-8")
    load_social("twitter_v2", later, server_db)
    (results_before,) = query(server_db, "select max(result_id) from ops.quality_result")[0]
    marts.build(server_db)
    assert "build plan: incremental build (incremental: new loads of social)" in capsys.readouterr().out
    incremental = fact(query, server_db)
    incremental_marts = marts_checksums(query, server_db)
    # renamed marts keep a view under the old name (one release), readable by the reporter, after every build
    old_names = query(
        server_db,
        "select table_name from information_schema.views where table_schema = 'marts'"
        " and table_name <> 'rpt_task_runs' order by 1",  # a view by design: it shows the runs as they end
    )
    assert [name for (name,) in old_names] == [
        "ops_load_summary", "ops_quality_summary", "ops_quarantine_summary", "sdg_tagging_evaluation",
        "survey_construct_reliability",
    ]  # fmt: skip
    assert query(server_db, "select count(*) from marts.ops_load_summary") == query(
        server_db, "select count(*) from marts.rpt_load_summary"
    )

    refolded = query(
        server_db, "select count(*) from intermediate.int_social__posts where last_commit_seq > %s", (first_seq,)
    )[0][0]
    assert refolded == len(page["data"])  # only the posts the new load observed were recomputed
    assert len(incremental) == len(before) + 2
    changed = [row for row in incremental if row[0] in before and row != before[row[0]]]
    assert len(changed) == len(page["data"]) - 2 and all(row[-1] == 2 for row in changed)  # two observations
    # the gates looked at what the build rebuilt: the social marts, not the catalogue's
    suites = {
        s for (s,) in query(server_db, "select suite from ops.quality_result where result_id > %s", (results_before,))
    }
    assert {
        "raw.social_post",
        "marts.fct_social_post",
        "marts.agg_social_posts_monthly",
        "marts.fct_indicator_value",
    } <= suites
    assert "marts.dim_project" not in suites and "raw.catalogue_record" not in suites
    assert marts_checksums(query, server_db, "marts_build") == incremental_marts

    marts.build(server_db, full_refresh=True)
    assert "build plan: full build (full refresh asked for)" in capsys.readouterr().out
    assert fact(query, server_db) == incremental
    assert marts_checksums(query, server_db) == incremental_marts  # aggregates and indicators too


def test_a_failed_build_leaves_no_state_and_the_next_build_is_full(server_db, query, capsys):
    load_catalogue_inbox(server_db)
    marts.build(server_db)
    with warehouse.connect(server_db) as conn:  # what a build that fails after dbt started leaves behind
        conn.execute("drop table marts_build.refresh_info")
    capsys.readouterr()
    # a build that does not prepare the next (the benchmark's last) publishes, and leaves no state either
    marts.build(server_db, prepare_next=False)
    out = capsys.readouterr().out
    assert "build plan: full build (no previous build state in marts_build)" in out
    assert "bringing marts_build up to the published marts" not in out
    with warehouse.connect(server_db) as conn:
        assert marts.build_state(conn) is None
    marts.build(server_db)
    assert "build plan: full build (no previous build state in marts_build)" in capsys.readouterr().out


def test_a_post_that_moves_to_another_author_is_followed_into_the_next_builds_starting_point(
    server_db, query, tmp_path
):
    """A newer observation names another author for a post that was its author's only one in its month: the
    incremental build recomputes both authors (agg_social_author_reach), and catch-up copies them into
    marts_build, so the next build starts from what was published (checksums), equal to a full rebuild."""
    load_social("twitter_v2", SAMPLE, server_db)
    marts.build(server_db)
    tweets = [t for line in SAMPLE.read_text(encoding="utf-8").splitlines() for t in json.loads(line)["data"]]
    months: dict[str, dict[str, list]] = {}
    for tweet in tweets:
        months.setdefault(tweet["author_id"], {}).setdefault(tweet["created_at"][:7], []).append(tweet)
    moved = next(
        posts[0] for by_month in months.values() if len(by_month) >= 2 for posts in by_month.values() if len(posts) == 1
    )
    other = next(a for a in months if a != moved["author_id"])
    later = tmp_path / "twitter_v2_later.jsonl"
    later.write_text(json.dumps({"data": [{**moved, "author_id": other}]}) + "\n", encoding="utf-8")
    load_social("twitter_v2", later, server_db)
    marts.build(server_db)
    incremental = marts_checksums(query, server_db)
    assert marts_checksums(query, server_db, "marts_build") == incremental
    marts.build(server_db, full_refresh=True)
    assert marts_checksums(query, server_db) == incremental


def indexes(query, wh, schema: str) -> set[tuple[str, str]]:
    """(table, definition without the index's name and schema) of every index of `schema`."""
    rows = query(wh, "select tablename, indexdef from pg_indexes where schemaname = %s", (schema,))
    return {(table, re.sub(r"INDEX \S+ ON \S+ ", "INDEX ON ", definition)) for table, definition in rows}


def test_an_index_a_model_gained_reaches_the_next_builds_starting_point(server_db, query):
    """After a model gains an index, the next (full) build publishes it, and the swap leaves the previous marts,
    without it, as the next build's starting point: the publish gives marts_build every published index, so
    incremental builds and their gates keep reading through it."""
    load_social("twitter_v2", SAMPLE, server_db)
    marts.build(server_db)
    with warehouse.connect(server_db) as conn:  # the published marts of a version before the index
        (name,) = conn.execute(
            "select indexname from pg_indexes where schemaname = 'marts'"
            " and tablename = 'agg_social_authors_monthly' and indexdef like '%%(project_key)'"
        ).fetchone()
        conn.execute(f'drop index marts."{name}"')
    assert indexes(query, server_db, "marts") != indexes(query, server_db, "marts_build")
    marts.build(server_db, full_refresh=True)
    published = indexes(query, server_db, "marts")
    assert ("agg_social_authors_monthly", "CREATE INDEX ON USING btree (project_key)") in published
    assert indexes(query, server_db, "marts_build") == published


STATE = {"fingerprint": "f", "commit_seq": {"catalogue": 3, "survey": 5, "social": 9}}


@pytest.mark.parametrize(
    ("previous", "current", "full_refresh", "full", "selected"),
    [
        (None, STATE, False, True, None),
        (STATE, STATE, True, True, None),
        (STATE, {**STATE, "fingerprint": "g"}, False, True, None),  # models or migrations changed
        (STATE, {**STATE, "commit_seq": {**STATE["commit_seq"], "catalogue": 12}}, False, True, None),
        (STATE, {**STATE, "commit_seq": {**STATE["commit_seq"], "social": 12}}, False, False, ["source:raw_social+"]),
        (
            STATE,
            {**STATE, "commit_seq": {"catalogue": 3, "survey": 11, "social": 12}},
            False,
            False,
            ["source:raw_survey+", "source:raw_social+"],
        ),
        (STATE, STATE, False, False, []),  # nothing new: the operations marts and the indicators only
    ],
)
def test_build_plan(previous, current, full_refresh, full, selected):
    plan = marts.plan_build(previous, current, full_refresh)
    assert plan.full is full
    args = plan.dbt_args()
    if full:
        assert args == ["build", "--full-refresh"]
    else:
        assert plan.since_commit_seq == 9  # the newest load the build schema holds
        assert args[:2] == ["build", "--select"] and args[2 : 2 + len(selected)] == selected
        always = ["path:models/marts/ops", "fct_indicator_value", "path:models/marts/compat"]  # selectors.yml
        assert args[2 + len(selected) :] == [*always, "--exclude-resource-type", "unit_test"]


def test_loads_record_their_commit_order(server_db, query):
    load_catalogue_inbox(server_db)
    rows = query(server_db, "select load_id, commit_seq from ops.load_run where status = 'succeeded' order by load_id")
    assert len(rows) == 2 and all(seq is not None for _, seq in rows)
    assert [seq for _, seq in rows] == sorted(seq for _, seq in rows)
    # raw social posts are partitioned by month of posting
    partitions = query(server_db, "select count(*) from pg_inherits where inhparent = 'raw.social_post'::regclass")[0][
        0
    ]
    assert partitions == 30 * 12 + 1  # 2006-01 to 2035-12, and a default partition

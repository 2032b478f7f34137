"""Incremental builds (issue #8): a build after a new load folds in only the posts that load observed,
and ends with exactly the marts a full rebuild gives; loads carry their commit order."""

from __future__ import annotations

import json
from pathlib import Path

from cstrack import pipeline, publish
from cstrack.sources.social import load_social

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "social" / "twitter_v2_citizen_science_2024.jsonl"
STABLE = (  # every column of fct_social_post but the load times, which differ between any two runs
    "post_key, platform, post_id, kind, author_pseudonym, project_key, link_method, language, sentiment,"
    " like_count, repost_count, reply_count, quote_count, engagement, n_observations"
)


def fact(query, wh) -> list[tuple]:
    return query(wh, f"select {STABLE} from marts.fct_social_post order by post_key")


def test_incremental_build_equals_a_full_rebuild(server_db, query, tmp_path):
    pipeline.load_catalogue_inbox(server_db)  # projects, so that posts link
    load_social("twitter_v2", SAMPLE, server_db)
    publish.build(server_db)
    before = {row[0]: row for row in fact(query, server_db)}
    (first_seq,) = query(server_db, "select max(last_commit_seq) from intermediate.int_social__posts")[0]

    # a later API page: the first page's posts again with more likes, and two new posts
    page = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    for post in page["data"]:
        post["public_metrics"]["like_count"] += 100
    for n, post in enumerate(page["data"][:2]):
        page["data"].append({**post, "id": f"1999999999999999{n:03d}"})
    later = tmp_path / "twitter_v2_later.jsonl"
    later.write_text(json.dumps(page) + "\n", encoding="utf-8")
    load_social("twitter_v2", later, server_db)
    publish.build(server_db)
    incremental = fact(query, server_db)

    refolded = query(
        server_db, "select count(*) from intermediate.int_social__posts where last_commit_seq > %s", (first_seq,)
    )[0][0]
    assert refolded == len(page["data"])  # only the posts the new load observed were recomputed
    assert len(incremental) == len(before) + 2
    changed = [row for row in incremental if row[0] in before and row != before[row[0]]]
    assert len(changed) == len(page["data"]) - 2 and all(row[-1] == 2 for row in changed)  # two observations

    publish.build(server_db, full_refresh=True)
    assert fact(query, server_db) == incremental


def test_loads_record_their_commit_order(server_db, query):
    pipeline.load_catalogue_inbox(server_db)
    rows = query(server_db, "select load_id, commit_seq from ops.load_run where status = 'succeeded' order by load_id")
    assert len(rows) == 2 and all(seq is not None for _, seq in rows)
    assert [seq for _, seq in rows] == sorted(seq for _, seq in rows)
    # raw social posts are partitioned by month of posting
    partitions = query(server_db, "select count(*) from pg_inherits where inhparent = 'raw.social_post'::regclass")[0][0]
    assert partitions == 30 * 12 + 1  # 2006-01 to 2035-12, and a default partition

"""Several observations of one post (issue #13, items 4 and 5): fields merge field by field (a listening export
without metrics never erases the counts an API export gave), and an incremental build after a re-export that
moves posts to another month, or changes their project link, publishes exactly what a full rebuild does.
Hand-written fixtures (tests/fixtures/social_merge), real PostgreSQL, real dbt, marts.build."""

from __future__ import annotations

import sys
from pathlib import Path

from cstrack.ingest.catalogue import load_catalogue_inbox
from cstrack.ingest.social.load import load_social
from cstrack.publish import marts

sys.path.insert(0, str(Path(__file__).parent))  # helpers of a test module beside this one (never `import tests`)
from test_incremental import marts_checksums

FIXTURES = Path(__file__).parent / "fixtures" / "social_merge"
API_PAGE = FIXTURES / "twitter_v2_api_page.json"
POST = "select {} from marts.fct_social_post where post_id = %s"
SOCIAL_MARTS = {
    "fct_social_post", "agg_social_posts_monthly", "agg_social_authors_monthly", "agg_social_engagement_monthly",
    "agg_social_hashtag_monthly", "agg_social_sdg_mentions", "fct_indicator_value",
}  # fmt: skip


def project_of(query, wh, url_fragment: str) -> str:
    return query(wh, "select project_key from marts.dim_project where url ilike %s", (f"%{url_fragment}%",))[0][0]


def test_api_metrics_survive_a_later_listening_export(server_db, query):
    wh = server_db
    load_catalogue_inbox(wh)
    load_social("twitter_v2", API_PAGE, wh)
    load_social("lynguo", FIXTURES / "lynguo_listening.csv", wh)  # the same tweets, no counts, an Impacto
    marts.build(wh)

    columns = ("source_format, n_observations, like_count, repost_count, reply_count, quote_count, impression_count,"
               " reach, engagement, language, language_detected, author_handle")  # fmt: skip
    # the API's counts, the listening tool's reach (Impacto), the API's language over a detected one
    assert query(wh, POST.format(columns), ("1800000000000000001",)) == [
        ("lynguo", 2, 20, 5, 2, 1, 1500, 2400, 20 + 5 + 2 + 1, "en", False, "nl_lichtmeting_demo")
    ]
    # a listening export cannot tell a reply: the API's kind and replied-to post stay
    assert query(
        wh, POST.format("kind, referenced_post_id, like_count, reach, language"), ("1800000000000000004",)
    ) == [("reply", "1800000000000000001", 2, 150, "es")]
    march = "month = '2024-03-01'"
    assert query(wh, "select sum(posts), sum(posts_with_metrics), sum(engagement_sum)"
                     f" from marts.agg_social_posts_monthly where {march}") == [
        (4, 4, 28 + 8 + 2 + 5)
    ]  # fmt: skip
    lichtmeting = project_of(query, wh, "globenederland.nl/onderzoeksprojecten/lichtmeting")
    assert query(
        wh,
        "select posts, posts_with_metrics, engagement_sum from"
        f" marts.agg_social_engagement_monthly where {march} and project_key = %s",
        (lichtmeting,),
    ) == [(3, 3, 28 + 8 + 2)]
    assert query(wh, "select engagement_sum from marts.agg_social_hashtag_monthly"
                     f" where {march} and hashtag = 'nationalelichtmeting'") == [
        (28 + 8 + 2,)
    ]  # fmt: skip


def test_a_reexport_that_moves_posts_builds_incrementally_as_a_full_rebuild(server_db, query, capsys):
    wh = server_db
    load_catalogue_inbox(wh)
    load_social("twitter_v2", API_PAGE, wh)
    marts.build(wh)
    lichtmeting = project_of(query, wh, "globenederland.nl/onderzoeksprojecten/lichtmeting")
    months = "select post_id, posted_month::text, project_key from marts.fct_social_post order by post_id"
    assert query(wh, months) == [
        ("1800000000000000001", "2024-03-01", lichtmeting),
        ("1800000000000000002", "2024-03-01", lichtmeting),
        ("1800000000000000003", "2024-02-01", None),
        ("1800000000000000004", "2024-03-01", lichtmeting),
        ("1800000000000000005", "2024-03-01", None),
    ]

    # a listening export in local time: one post crosses into April, February's only post into March, a post
    # exported with month and day swapped moves a month later; an edited hashtag drops a project link
    load_social("lynguo", FIXTURES / "lynguo_reexport.csv", wh)
    capsys.readouterr()
    marts.build(wh)
    assert "build plan: incremental build (incremental: new loads of social)" in capsys.readouterr().out
    assert query(wh, months) == [
        ("1800000000000000001", "2024-03-01", lichtmeting),
        ("1800000000000000002", "2024-04-01", lichtmeting),
        ("1800000000000000003", "2024-03-01", None),
        ("1800000000000000004", "2024-03-01", None),
        ("1800000000000000005", "2024-04-01", None),
    ]
    # both observations of the post moved by a month are folded, its API counts included
    assert query(wh, POST.format("n_observations, like_count, reach"), ("1800000000000000005",)) == [(2, 4, 55)]
    for table in ("agg_social_posts_monthly", "agg_social_authors_monthly", "agg_social_engagement_monthly",
                  "agg_social_sdg_mentions"):  # fmt: skip
        assert query(wh, f"select count(*) from marts.{table} where month = '2024-02-01'") == [(0,)], table
    incremental = marts_checksums(query, wh)
    assert SOCIAL_MARTS <= set(incremental)
    # the next build starts from marts_build: it holds what was published
    assert marts_checksums(query, wh, "marts_build") == incremental

    marts.build(wh, full_refresh=True)
    assert "build plan: full build (full refresh asked for)" in capsys.readouterr().out
    full = marts_checksums(query, wh)
    assert {t: incremental[t] for t in SOCIAL_MARTS} == {t: full[t] for t in SOCIAL_MARTS}
    assert incremental == full

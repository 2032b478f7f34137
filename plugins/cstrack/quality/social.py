"""Quality suites of the social domain: raw posts, the social marts."""

from __future__ import annotations

from cstrack.quality.expectations import (
    BUILD,
    CHANGED_ROWS,
    NEW_LOADS,
    Suite,
    between,
    in_set,
    not_null,
    orphans,
    rows,
    rows_when_loaded,
    unique,
)


def suites() -> list[Suite]:
    return [
        Suite(
            "raw",
            "social_post",
            [
                not_null("platform"),
                not_null("post_id"),
                not_null("author_pseudonym"),
                unique("_load_id", "platform", "post_id"),
                in_set("kind", ["original", "repost", "quote", "reply"]),
                between("like_count", 0, None),
                between("repost_count", 0, None),
            ],
            scope=NEW_LOADS,
        ),
        # --- marts
        Suite(
            "marts",
            "fct_social_post",
            [
                rows_when_loaded("social_post", "fct_social_post"),
                unique("post_key"),
                unique("platform", "post_id"),
                not_null("author_pseudonym"),
                in_set("kind", ["original", "repost", "quote", "reply"]),
                rows(orphans("project_key", "dim_project"), "linked posts point at published projects"),
                rows(
                    "select post_key from {batch} where author_handle is not null and not is_project_account",
                    "privacy: only project accounts keep a handle",
                ),
                between("engagement", 0, None),
                # the loader quarantines posts dated outside these bounds: one here would break every social card.
                # As text: GX reads the rows into Python, which has no date before year 1 or after 9999
                rows(
                    "select post_key, posted_at::text as posted_at from {batch}"
                    " where posted_at < timestamptz '2006-03-21 00:00+00'"
                    " or posted_at > now() + interval '1 day'",
                    "posts are dated from 2006-03-21 (the first tweet) to tomorrow",
                ),
            ],
            scope=CHANGED_ROWS,
        ),
        Suite(
            "marts",
            "agg_social_engagement_monthly",
            [
                unique("project_key", "month"),
                rows(
                    "select project_key, month from {batch} where original_posts + reposts + quotes + replies <> posts"
                    " or unique_authors > posts",
                    "post counts add up",
                ),
            ],
        ),
        Suite("marts", "agg_social_hashtag_monthly", [unique("month", "hashtag"), between("posts", 1, None)]),
        Suite(
            "marts",
            "agg_social_posts_monthly",
            [
                unique("month", "platform", "kind", "project_key"),
                between("posts", 1, None),
                rows(orphans("project_key", "dim_project"), "linked posts point at published projects"),
                rows(
                    f"select 1 as posts_lost where (select coalesce(sum(posts), 0) from {{batch}})"
                    f" <> (select count(*) from {BUILD}.fct_social_post)",
                    "counts add up: the posts of every month, platform and project are the posts of fct_social_post",
                ),
            ],
        ),
        Suite(
            "marts",
            "agg_social_authors_monthly",
            [
                unique("month", "project_key", "author_pseudonym"),
                not_null("author_pseudonym"),
                between("posts", 1, None),
            ],
            # a row per author and month: an incremental build checks the months it rebuilt (each whole, and
            # the key holds the month, so no other row can repeat one of theirs)
            scope=CHANGED_ROWS,
        ),
        Suite(
            "marts",
            "agg_social_author_reach",
            [
                between("posts", 1, None),
                # the pseudonyms that start with a key's 16 hex digits (read through the author_pseudonym index)
                rows(
                    "select author_key from {batch} where project_key is null and (select count(distinct"
                    f" a.author_pseudonym) from {BUILD}.agg_social_authors_monthly as a"
                    " where a.author_pseudonym >= lpad(to_hex(author_key), 16, '0')"
                    " and a.author_pseudonym < lpad(to_hex(author_key), 16, '0') || 'g') > 1",
                    "one author_key per pseudonym: the distinct-authors card counts exactly",
                ),
            ],
            # the authors an incremental build recomputed: a key two pseudonyms share has a new one among them
            scope=CHANGED_ROWS,
        ),
        Suite("marts", "agg_social_sdg_mentions", [unique("month", "sdg"), between("sdg", 1, 17)]),
    ]

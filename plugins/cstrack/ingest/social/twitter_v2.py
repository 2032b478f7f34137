"""Twitter/X API v2 pages (JSON, JSON lines or arrays of pages): one post per tweet."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from cstrack.ingest.social.json_stream import iter_json_values, record_nul
from cstrack.ingest.social.posts import (
    RECORD_ERRORS,
    BadPost,
    as_dict,
    as_list,
    count,
    identifier,
    latest_post_at,
    timestamp,
)
from cstrack.ingest.text import snippet

_KIND_OF_REFERENCE = {"retweeted": "repost", "quoted": "quote", "replied_to": "reply"}


def twitter_posts(
    path: Path, unmapped: Counter | None = None
) -> Iterator[tuple[int, dict | None, str | None, str | None, Any]]:
    """(post number, post, reason, field, raw value) for each tweet of API v2 pages (JSON, JSONL or arrays).

    A page's `errors` for unavailable tweets (deleted, suspended, protected) are quarantined with their reason.
    NUL characters removed from strings are counted in `unmapped` (key path, NUL_REMOVED).
    """
    nul_removed: Counter = Counter()
    yield from twitter_items(iter_json_values(path, nul_removed))
    record_nul(nul_removed, unmapped)


def twitter_items(
    pages: Iterable[tuple[Any, str | None]], number: int = 0, page_number: int = 0, latest: datetime | None = None
) -> Iterator[tuple[int, dict | None, str | None, str | None, Any]]:
    """twitter_posts of the pages read (value, error), numbered after `number` items of `page_number` pages
    (a worker's part of a file); `latest`: the latest post time accepted (now + 1 day by default)."""
    latest = latest or latest_post_at()
    for page, error in pages:
        page_number += 1
        before, tweets, includes, after = _page_items(page_number, page, error)
        users = {}
        for user in as_list(includes.get("users")):
            if isinstance(user, dict) and isinstance(user.get("id"), (str, int)):
                users[str(user["id"])] = user
        for problem in before:
            number += 1
            yield number, None, *problem
        for tweet in tweets:
            number += 1
            try:
                yield number, _tweet(tweet, users, latest), None, None, None
            except BadPost as exc:
                yield number, None, f"page {page_number}: {exc}", exc.field, snippet(tweet)
            except RECORD_ERRORS as exc:
                yield (
                    number,
                    None,
                    f"page {page_number}: malformed tweet ({type(exc).__name__}: {exc})",
                    None,
                    snippet(tweet),
                )
        for problem in after:
            number += 1
            yield number, None, *problem


def page_item_count(page: Any, error: str | None) -> int:
    """How many items (numbers) a page read (value, error) gives: its tweets and problems."""
    before, tweets, _includes, after = _page_items(0, page, error)
    return len(before) + len(tweets) + len(after)


def _page_items(page_number: int, page: Any, error: str | None) -> tuple[list[tuple], list, dict, list[tuple]]:
    """One page's items in order: problems (reason, field, raw value) before its tweets, the tweets (not read
    here, so counting a page's items costs little), the page's `includes`, problems after the tweets."""
    if error:
        return [(f"page {page_number}: {error}", None, None)], [], {}, []
    if not isinstance(page, dict):
        return [(f"page {page_number}: not a JSON object with `data`", None, snippet(page))], [], {}, []
    if "data" not in page and "id" in page and "errors" not in page:
        page = {"data": [page]}  # a bare tweet object
    data = page.get("data")
    before = []
    if data is not None and not isinstance(data, (dict, list)):
        before.append((f"page {page_number}: `data` is not a list of tweets", "data", snippet(data)))
    after = []
    for problem in as_list(page.get("errors")):
        problem = as_dict(problem)
        resource = problem.get("resource_id") or problem.get("value") or "?"
        title = problem.get("title") or "error"
        detail = problem.get("detail") or ""
        # a tweet of the request, or one an expansion names (a referenced tweet, a mentioned user)
        what = problem.get("resource_type") if isinstance(problem.get("resource_type"), str) else "tweet"
        reason = f"page {page_number}: {what} {resource} not available ({title}: {detail})".strip()
        after.append((reason, "errors", snippet(problem)))
    return before, [data] if isinstance(data, dict) else as_list(data), as_dict(page.get("includes")), after


def _tweet(tweet, users: dict, latest: datetime) -> dict:
    if not isinstance(tweet, dict):
        raise BadPost(None, "a tweet is not a JSON object")
    post_id = identifier(tweet.get("id"), "id")
    author_id = identifier(tweet.get("author_id"), "author_id")
    note = as_dict(tweet.get("note_tweet"))  # a post over 280 characters: `text` is its truncated start
    text = note.get("text") or tweet.get("text")
    if text is not None and not isinstance(text, str):
        raise BadPost("text", "text is not a string")
    kind, referenced = "original", None
    if tweet.get("referenced_tweets"):  # most posts are originals
        references = {}
        for reference in map(as_dict, as_list(tweet["referenced_tweets"])):
            if reference.get("type") in _KIND_OF_REFERENCE:
                references.setdefault(reference["type"], identifier(reference.get("id"), "referenced_tweets.id"))
        # a reply that quotes is a quote: retweet first, then quote, then reply
        for ref_type, ref_kind in _KIND_OF_REFERENCE.items():
            if ref_type in references:
                kind, referenced = ref_kind, references[ref_type]
                break
    # the entities of the text kept: a long post's are in note_tweet (the top level's cover the truncated text)
    entities = (
        as_dict(note.get("entities")) if note.get("text") and "entities" in note else as_dict(tweet.get("entities"))
    )
    metrics = as_dict(tweet.get("public_metrics"))
    withheld = tweet.get("withheld")
    withheld_in = None
    if isinstance(withheld, dict):
        withheld_in = [c for c in as_list(withheld.get("country_codes")) if isinstance(c, str)]
        if withheld.get("copyright"):
            withheld_in.append("copyright")
    handle = as_dict(users.get(author_id)).get("username")
    return {
        "source_format": "twitter_v2",
        "platform": "twitter",
        "post_id": post_id,
        "posted_at": timestamp(tweet.get("created_at"), "created_at", latest),
        "kind": kind,
        "referenced_post_id": referenced,
        "author_handle": handle if isinstance(handle, str) else None,  # unknown when `includes` is missing
        "author_key": author_id,  # the stable account id, known even without `includes`
        "text": text,
        "source_language": tweet.get("lang"),
        "hashtags": [as_dict(h).get("tag") for h in as_list(entities.get("hashtags"))],
        "mentions": [
            (m["username"], str(m.get("id") or "@" + m["username"].casefold()))
            for m in map(as_dict, as_list(entities.get("mentions")))
            if isinstance(m.get("username"), str)
        ],
        "urls": [
            u.get("unwound_url") or u.get("expanded_url") or u.get("url")
            for u in map(as_dict, as_list(entities.get("urls")))
        ],
        "like_count": count(metrics.get("like_count")),
        "repost_count": count(metrics.get("retweet_count")),
        "reply_count": count(metrics.get("reply_count")),
        "quote_count": count(metrics.get("quote_count")),
        "impression_count": count(metrics.get("impression_count")),
        "withheld_in": withheld_in,
    }

"""Mastodon statuses (a JSON array or JSON lines): one post per status, its HTML content as text."""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cstrack.ingest.social.json_stream import iter_json_values, record_nul
from cstrack.ingest.social.posts import (
    RECORD_ERRORS,
    BadPost,
    as_dict,
    as_list,
    count,
    identifier,
    latest_post_at,
    sha,
    timestamp,
)
from cstrack.ingest.text import HTML_TAG, snippet

_BREAK = re.compile(r"<br\s*/?>|</p>", re.IGNORECASE)
_HREF = re.compile(r"""<a\s[^>]*?href=["']([^"']+)["'][^>]*>""", re.IGNORECASE)


def mastodon_posts(
    path: Path, unmapped: Counter | None = None
) -> Iterator[tuple[int, dict | None, str | None, str | None, Any]]:
    """(post number, post, reason, field, raw value) for each Status of a JSON array (or JSON lines).
    NUL characters removed from strings are counted in `unmapped` (key path, NUL_REMOVED)."""
    nul_removed: Counter = Counter()
    yield from mastodon_items(iter_json_values(path, nul_removed))
    record_nul(nul_removed, unmapped)


def mastodon_items(
    statuses: Iterable[tuple[Any, str | None]], number: int = 0, latest: datetime | None = None
) -> Iterator[tuple[int, dict | None, str | None, str | None, Any]]:
    """mastodon_posts of the statuses read (value, error), numbered after `number` (a worker's part of a file);
    `latest`: the latest post time accepted (now + 1 day by default)."""
    latest = latest or latest_post_at()
    for status, error in statuses:
        number += 1
        if error:
            yield number, None, error, None, None
            continue
        try:
            yield number, _status(status, latest), None, None, None
        except BadPost as exc:
            yield number, None, str(exc), exc.field, snippet(status)
        except RECORD_ERRORS as exc:
            yield number, None, f"malformed status ({type(exc).__name__}: {exc})", None, snippet(status)


def _host(url) -> str:
    try:
        return (urlsplit(url).hostname or "") if isinstance(url, str) else ""
    except ValueError:
        return ""


def _acct(account: dict) -> str:
    """user@instance: local accounts' `acct` lacks the instance, their `url` names it."""
    acct = account.get("acct") or account.get("username")
    if not isinstance(acct, str) or not acct.strip():
        raise BadPost("account.acct", "account.acct is missing")
    acct = acct.strip().lstrip("@")
    host = _host(account.get("url"))
    return acct if "@" in acct or not host else f"{acct}@{host}"


def _status_id(status: dict, field: str) -> str:
    """The status uri is its global id, but it names the author: keep its hash (the instance's id otherwise)."""
    uri = status.get("uri")
    return sha(uri) if isinstance(uri, str) and uri.strip() else identifier(status.get("id"), field)


def _status(status, latest: datetime) -> dict:
    if not isinstance(status, dict):
        raise BadPost(None, "a status is not a JSON object")
    if status.get("visibility") in ("private", "direct"):
        raise BadPost("visibility", f"not public (visibility {status['visibility']}): not collected")
    post_id = _status_id(status, "id")
    account = as_dict(status.get("account"))
    if not account:
        raise BadPost("account", "account is missing")
    acct = _acct(account)
    reblog = status.get("reblog") if isinstance(status.get("reblog"), dict) else None
    quote = as_dict(status.get("quote"))
    quoted = (
        quote.get("quoted_status")
        if isinstance(quote.get("quoted_status"), dict)
        else (quote if "uri" in quote else None)
    )
    if reblog:
        kind, referenced = "repost", _status_id(reblog, "reblog.id")
    elif quoted:
        kind, referenced = "quote", _status_id(quoted, "quote.id")
    elif status.get("in_reply_to_id") is not None:
        kind, referenced = "reply", identifier(status.get("in_reply_to_id"), "in_reply_to_id")
    else:
        kind, referenced = "original", None
    content_of = reblog or status  # a reblog's own content is empty: the reblogged status carries it
    content = content_of.get("content") or ""
    if not isinstance(content, str):
        raise BadPost("content", "content is not a string")
    mentions = [
        m
        for m in map(as_dict, as_list(content_of.get("mentions")))
        if isinstance(m.get("acct") or m.get("username"), str)
    ]
    mention_urls = {m.get("url") for m in mentions}
    urls = [
        html.unescape(href) for href in _HREF.findall(content)
        if href not in mention_urls and "/tags/" not in href
    ]  # fmt: skip
    card_url = as_dict(content_of.get("card")).get("url")
    if isinstance(card_url, str):
        urls.append(card_url)
    # inline tags go without a trace (Mastodon writes '#<span>tag</span>', '@<span>user</span>' and links as
    # '<span class="invisible">https://</span><span>example.org</span>'); paragraphs and breaks are new lines
    text = html.unescape(HTML_TAG.sub("", _BREAK.sub("\n", content))).strip()
    if status.get("spoiler_text") and isinstance(status["spoiler_text"], str):
        text = f"{status['spoiler_text']}\n{text}"
    handles = [_acct(m) for m in mentions]
    return {
        "source_format": "mastodon",
        "platform": "mastodon",
        "post_id": post_id,
        "posted_at": timestamp(status.get("created_at"), "created_at", latest),
        "kind": kind,
        "referenced_post_id": referenced,
        "author_handle": acct,
        "author_key": "@" + acct.casefold(),
        "text": text,
        "source_language": status.get("language") or (reblog or {}).get("language"),
        "hashtags": [as_dict(t).get("name") for t in as_list(content_of.get("tags"))],
        "mentions": [(h, "@" + h.casefold()) for h in handles],
        "urls": urls,
        "like_count": count(status.get("favourites_count")),
        "repost_count": count(status.get("reblogs_count")),
        "reply_count": count(status.get("replies_count")),
        "quote_count": count(status.get("quotes_count")),
    }

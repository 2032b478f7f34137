"""Property-based tests of the three social parsers, loaded for real (COPY into PostgreSQL): whatever the
input, every record loads or is quarantined with a reason, and rows read = loaded + quarantined. Never an
unhandled exception, never a failed COPY."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cstrack import warehouse
from cstrack.ingest.social.load import load_social
from cstrack.ingest.social.lynguo import LYNGUO_COLUMNS

SERVER = os.environ.get("CSTRACK_TEST_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def wh():
    patch = pytest.MonkeyPatch()
    home = Path(tempfile.mkdtemp(prefix="cst-"))
    name = f"cstrack_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = SERVER.rsplit("/", 1)[0] + "/" + name
    patch.setenv("CSTRACK_HOME", str(home))
    patch.setenv("WAREHOUSE_URL", url)
    try:
        wh = warehouse.Warehouse.from_url(url)
        warehouse.migrate(wh)
        yield wh
    finally:
        patch.undo()
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')
        shutil.rmtree(home, ignore_errors=True)


def load_bytes(wh, format: str, name: str, data: bytes):
    folder = Path(tempfile.mkdtemp(prefix="cst-social-"))
    try:
        path = folder / name
        path.write_bytes(data)
        result = load_social(format, path, wh)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    with warehouse.connect(wh) as conn:
        reasons = conn.execute("select reason from ops.quarantine where load_id = %s", (result.load_id,)).fetchall()
    assert all(reason and reason.strip() for (reason,) in reasons)
    return result


# any JSON value, including lone surrogates, NULs, huge and negative numbers
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text()
)
anything = st.recursive(
    scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=10
)
maybe = lambda strategy: strategy | anything  # noqa: E731  a valid-looking value, or anything at all
ids = maybe(st.from_regex(r"\A[0-9]{1,20}\Z"))
stamps = maybe(
    st.datetimes().map(lambda d: d.isoformat() + "Z") | st.sampled_from(["2024-03-05T10:15:00.000Z", "2024-13-01", ""])
)
counts = maybe(st.integers(min_value=-5, max_value=2**64))
tags = st.lists(st.fixed_dictionaries({"tag": maybe(st.text(min_size=1))}), max_size=3)

tweets = st.fixed_dictionaries(
    {"id": ids, "author_id": ids, "created_at": stamps, "text": maybe(st.text())},
    optional={
        "lang": maybe(st.sampled_from(["en", "und", "es", "zh-cn", "qme"])),
        "referenced_tweets": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {"type": maybe(st.sampled_from(["retweeted", "quoted", "replied_to"])), "id": ids}
                )
            )
        ),
        "entities": maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "hashtags": maybe(tags),
                    "mentions": maybe(st.lists(st.fixed_dictionaries({"username": maybe(st.text()), "id": ids}))),
                    "urls": maybe(st.lists(st.fixed_dictionaries({"expanded_url": maybe(st.text())}))),
                },
            )
        ),
        "public_metrics": maybe(
            st.dictionaries(st.sampled_from(["like_count", "retweet_count", "reply_count"]), counts)
        ),
        "withheld": maybe(st.fixed_dictionaries({"copyright": anything, "country_codes": maybe(st.lists(st.text()))})),
    },
)
pages = st.fixed_dictionaries(
    {"data": maybe(st.lists(tweets, max_size=4))},
    optional={
        "includes": maybe(
            st.fixed_dictionaries(
                {"users": maybe(st.lists(st.fixed_dictionaries({"id": ids, "username": maybe(st.text())})))}
            )
        ),
        "errors": maybe(st.lists(st.fixed_dictionaries({"resource_id": ids, "title": maybe(st.text())}))),
        "meta": anything,
    },
)


def damaged(document: str, cut: int | None, noise: bytes) -> bytes:
    """The document as bytes, maybe truncated, maybe with stray bytes appended."""
    data = document.encode("utf-8", "surrogatepass")
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    return data + noise


@SETTINGS
@given(
    st.lists(maybe(pages), max_size=3),
    st.sampled_from(["jsonl", "array", "object"]),
    st.none() | st.integers(min_value=0),
    st.binary(max_size=4),
)
def test_twitter_v2_any_input_loads_or_is_quarantined(wh, pages, layout, cut, noise):
    if layout == "jsonl":
        document = "\n".join(json.dumps(p) for p in pages)
    elif layout == "array":
        document = json.dumps(pages)
    else:
        document = json.dumps(pages[0] if pages else {})
    load_bytes(wh, "twitter_v2", "twitter_v2_x.json", damaged(document, cut, noise))


accounts = st.fixed_dictionaries(
    {
        "acct": maybe(st.text(min_size=1)),
        "url": maybe(st.sampled_from(["https://mastodon.social/@a", "not a url", "http://[::1"])),
    }
)
statuses = st.fixed_dictionaries(
    {
        "id": ids,
        "created_at": stamps,
        "account": maybe(accounts),
        "content": maybe(st.text().map(lambda t: f"<p>{t}</p>")),
    },
    optional={
        "uri": maybe(st.text()),
        "visibility": maybe(st.sampled_from(["public", "unlisted", "private", "direct"])),
        "language": maybe(st.sampled_from(["en", "fr", None])),
        "in_reply_to_id": ids,
        "reblog": maybe(st.fixed_dictionaries({"uri": maybe(st.text()), "id": ids, "content": maybe(st.text())})),
        "quote": anything,
        "tags": maybe(st.lists(st.fixed_dictionaries({"name": maybe(st.text())}))),
        "mentions": maybe(st.lists(accounts)),
        "card": anything,
        "favourites_count": counts,
        "reblogs_count": counts,
    },
)


@SETTINGS
@given(st.lists(maybe(statuses), max_size=4), st.none() | st.integers(min_value=0), st.binary(max_size=4))
def test_mastodon_any_input_loads_or_is_quarantined(wh, statuses, cut, noise):
    load_bytes(wh, "mastodon", "mastodon_x.json", damaged(json.dumps(statuses), cut, noise))


cells = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=20) | st.sampled_from(
    ["2024-03-12 10:00:00", "12/03/2024 11:30", "Twitter", "https://twitter.com/a/status/1", "Positiva", "1.250", "@a"]
)


@SETTINGS
@given(
    st.booleans(),
    st.lists(st.lists(cells, min_size=0, max_size=10), max_size=5),
    st.lists(st.binary(min_size=1, max_size=3), max_size=2),
    st.sampled_from([";", ",", "\t"]),
)
def test_lynguo_any_input_loads_or_is_quarantined(wh, good_header, records, garbage, delimiter):
    header = ";".join(LYNGUO_COLUMNS) if good_header else "Fecha,Texto"
    lines = [header.encode()]
    for i, record in enumerate(records):
        line = delimiter.join(record).encode("utf-8")
        if garbage and i % 2 == 0:
            line += garbage[i % len(garbage)]  # stray bytes, valid or not
        lines.append(line)
    load_bytes(wh, "lynguo", "lynguo_x.csv", b"\n".join(lines) + b"\n")

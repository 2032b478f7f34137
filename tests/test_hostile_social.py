"""Real and hostile social inputs (issue #13) through the real CLI, `cstrack load social --format F FILE`:
each file either loads with rows read = loaded + quarantined (ops.load_run) and the reason of every
refused post in ops.quarantine, or ends in exactly one line `cstrack: error: ...` and no traceback.

Fixtures (tests/fixtures/hostile/social, written for these tests): a Twitter API v2 search page and a
Mastodon tag timeline shaped like the real responses, and small broken files; the big ones (JSON nested
10^5 deep, cells over 128 KiB) are made here. Plus one end-to-end run: impossible post dates are
quarantined, the rest is built and published, and the report renders; and property tests of the readers
on random bytes.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cstrack import warehouse
from cstrack.errors import CstrackError
from cstrack.ingest.catalogue import load_catalogue_inbox
from cstrack.ingest.readers import MAX_CELL_CHARS, NUL_REMOVED
from cstrack.ingest.social.enrichment import Enricher
from cstrack.ingest.social.json_stream import iter_json_values
from cstrack.ingest.social.load import prepared_rows
from cstrack.ingest.social.lynguo import LYNGUO_COLUMNS
from cstrack.ingest.social.posts import COLUMNS, FIRST_POST_AT, FORMATS
from cstrack.publish import marts

FIXTURES = Path(__file__).parent / "fixtures" / "hostile" / "social"
HEADER = ";".join(LYNGUO_COLUMNS)


def run_cstrack(*args: str, env: dict) -> subprocess.CompletedProcess:
    """The real `cstrack` command, as a user runs it."""
    exe = Path(sys.executable).parent / "cstrack"
    return subprocess.run([str(exe), *args], env={**os.environ, **env}, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def db(module_db):
    """One database for the module's CLI loads (each file is its own load); the env the CLI runs with."""
    wh, env = module_db
    return wh, {**env, "CSTRACK_PSEUDONYM_KEY": "hostile-social"}


@dataclass
class Loaded:
    read: int
    loaded: int
    quarantined: int
    load_id: int
    reasons: list[tuple[int, str | None, str]] = field(default_factory=list)  # (source_row, field, reason)
    unmapped: dict[tuple[str, str], int] = field(default_factory=dict)

    def reasons_text(self) -> str:
        return "\n".join(r for _, _, r in self.reasons)


def query(wh, sql: str, params=()):
    with warehouse.connect(wh) as conn:
        return conn.execute(sql, params).fetchall()


def load(db, format: str, path: Path) -> Loaded | str:
    """Load `path` with the CLI: the load's counts, reasons and unmapped values, or the one error line."""
    wh, env = db
    done = run_cstrack("load", "social", "--format", format, str(path), env=env)
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout, done.stderr[-3000:]
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cstrack: error: "), done.stderr[-3000:]
        return lines[0]
    ((load_id, status, read, loaded, quarantined),) = query(
        wh,
        "select load_id, status, rows_read, rows_loaded, rows_quarantined from ops.load_run"
        " where source_file = %s order by load_id desc limit 1",
        (str(path),),
    )
    assert status == "succeeded" and read == loaded + quarantined, (read, loaded, quarantined)
    assert done.stdout.strip().endswith(f"read {read}, loaded {loaded}, quarantined {quarantined} (load {load_id})")
    reasons = query(
        wh,
        "select source_row, field, reason from ops.quarantine where load_id = %s order by source_row, reason",
        (load_id,),
    )
    assert len(reasons) == quarantined and all(reason and reason.strip() for _, _, reason in reasons)
    unmapped = {
        (f, v): n
        for f, v, n in query(wh, "select field, value, n from ops.unmapped_values where load_id = %s", (load_id,))
    }
    return Loaded(read, loaded, quarantined, load_id, reasons, unmapped)


def posts(db, load_id: int, columns: str = "post_id, text") -> list[tuple]:
    return query(db[0], f"select {columns} from raw.social_post where _load_id = %s order by _source_row", (load_id,))


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def tweet_page(tweet_id: str, created_at: str = "2024-06-01T10:00:00.000Z", **fields) -> dict:
    tweet = {"id": tweet_id, "edit_history_tweet_ids": [tweet_id], "author_id": "1402000000000000041",
             "created_at": created_at, "lang": "en", "text": f"post {tweet_id}", **fields}  # fmt: skip
    return {"data": [tweet],
            "includes": {"users": [{"id": "1402000000000000041", "name": "Demo", "username": "demo_account"}]},
            "meta": {"newest_id": tweet_id, "oldest_id": tweet_id, "result_count": 1}}  # fmt: skip


def status(status_id: str, created_at: str = "2024-06-02T08:00:00.000Z", **fields) -> dict:
    return {"id": status_id, "created_at": created_at, "visibility": "public", "language": "en",
            "uri": f"https://fediscience.example/users/demo/statuses/{status_id}",
            "content": f"<p>status {status_id}</p>",
            "account": {"id": "1", "username": "demo", "acct": "demo", "url": "https://fediscience.example/@demo"},
            "tags": [], "mentions": [], "favourites_count": 1, **fields}  # fmt: skip


DEEP = 10**5


# --- real formats --------------------------------------------------------------------------------------


def test_a_real_twitter_v2_search_page_loads_what_it_should(db):
    got = load(db, "twitter_v2", FIXTURES / "twitter_v2_search_recent.json")
    # 10 tweets; the page's `errors` names a referenced tweet that is gone: quarantined with the API's reason
    assert (got.read, got.loaded, got.quarantined) == (11, 10, 1)
    reason = ("page 1: tweet 1785000999999999999 not available (Not Found Error: "
              "Could not find tweet with referenced_tweets.id: [1785000999999999999].)")  # fmt: skip
    assert got.reasons == [(11, "errors", reason)]
    rows = {r[0]: r[1:] for r in posts(db, got.load_id,
                                       "post_id, kind, referenced_post_id, author_handle, text, source_language,"
                                       " language, language_detected, hashtags, mention_handles, urls, like_count,"
                                       " impression_count, withheld_in, posted_at")}  # fmt: skip
    kinds = {pid[-2:]: r[0] for pid, r in rows.items()}
    assert kinds == {"01": "original", "03": "original", "04": "repost", "05": "reply", "06": "quote", "07": "original",
                     "08": "original", "09": "original", "10": "original", "11": "original"}  # fmt: skip
    assert {rows[f"17850010000000000{n}"][1] for n in ("04", "05", "06")} == {"1785001000000000001"}
    first = rows["1785001000000000001"]
    assert first[2] == "citsci_demo_org" and first[7:10] == (
        ["citizenscience", "sdg15"], ["pond_watch_demo"], ["https://pondwatch.example.org/count-2024?lang=en"]
    )  # fmt: skip
    assert first[10:12] == (31, 2048) and first[13] == datetime(2024, 4, 29, 18, 2, 11, tzinfo=UTC)
    assert rows["1785001000000000008"][2] is None  # its author is not in `includes` (deleted account)
    assert rows["1785001000000000010"][12] == ["DE", "TR"]  # withheld in two countries
    assert rows["1785001000000000009"][4:7] == ("und", "es", True)  # 'und': detected
    assert rows["1785001000000000007"][4:7] == ("zxx", None, True)  # no linguistic content, too short to tell
    assert rows["1785001000000000008"][4] == "qme"
    long_post = rows["1785001000000000011"]  # note_tweet: the whole text and its own entities
    assert long_post[3].endswith("Thank you all! #CitizenScience #Biodiversity") and "…" not in long_post[3]
    assert long_post[7] == ["citizenscience", "biodiversity"]


def test_a_real_mastodon_tag_timeline_loads_what_it_should(db):
    got = load(db, "mastodon", FIXTURES / "mastodon_tag_timeline.json")
    assert (got.read, got.loaded, got.quarantined) == (5, 5, 0)
    rows = posts(db, got.load_id, "post_id, kind, referenced_post_id, author_handle, text, source_language, language,"
                                  " hashtags, mention_handles, urls, like_count")  # fmt: skip
    original, reblog, reply, poll, french = rows
    # a reblog is a repost of the reblogged status (the same uri, hashed the same way), carrying its content
    assert reblog[1:4] == ("repost", original[0], "ana_private_person@mastodon.example")
    assert reblog[4] == original[4] and reblog[7] == ["citizenscience", "sdg15"] and reblog[6] == "en"
    # HTML stripped without splitting hashtags, mentions or links; paragraphs and <br> are new lines
    assert original[4] == ("Dragonfly count this weekend! Join us at the pond :dragonfly: #CitizenScience #SDG15\n"
                           "Details & map: https://pondwatch.example.org/count-2024")  # fmt: skip
    assert original[3] == "pondwatch@fediscience.example"  # a local account gets its instance from its url
    assert original[9] == ["https://pondwatch.example.org/count-2024"] and original[10] == 17
    assert reply[1] == "reply" and reply[8] == ["pondwatch@fediscience.example"]
    assert reply[4] == ("dead dragonflies (photo)\n@pondwatch we found three dead ones near the outflow this morning.\n"
                        "Is that something to report separately?")  # fmt: skip
    assert reply[5] is None and reply[6] == "en"  # language null: detected
    assert poll[3] == "schule_private_person@social.example.de" and poll[7] == ["bürgerwissenschaft"]
    assert french[4] == "L'inventaire des mares de l'école est fini\xa0! Merci à tous 🙏\n#SciencesParticipatives"
    for row in rows:
        assert "<" not in row[4] and "private_person" not in row[0] and "private_person" not in (row[2] or "")


# --- impossible dates ----------------------------------------------------------------------------------


def test_twitter_post_dates_outside_2006_03_21_to_tomorrow_are_quarantined(db, tmp_path):
    path = write(tmp_path, "twitter_v2_dates.jsonl",
                 (FIXTURES / "twitter_v2_impossible_dates.jsonl").read_text(encoding="utf-8")
                 + json.dumps(tweet_page("1785003000000000007",
                                         (datetime.now(UTC) + timedelta(days=2)).isoformat())) + "\n")  # fmt: skip
    got = load(db, "twitter_v2", path)
    assert (got.read, got.loaded, got.quarantined) == (7, 1, 6)
    assert posts(db, got.load_id, "post_id") == [("1785003000000000006",)]  # 2006-03-21T00:00Z itself loads
    by_row = {row: (f, reason) for row, f, reason in got.reasons}
    assert all(f == "created_at" for f, _ in by_row.values())
    assert "'9999-12-31T23:00:00-05:00' is after now + 1 day" in by_row[2][1]  # year 10000 in UTC
    assert "'0001-01-01T00:30:00+01:00' is before 2006-03-21T00:00Z" in by_row[1][1]  # year 1 BC in UTC
    assert "not an ISO timestamp (years 0001 to 9999): '0000-06-15T12:00:00Z'" in by_row[3][1]
    assert "'2005-12-31T23:59:59.000Z' is before 2006-03-21" in by_row[4][1]
    assert "'2006-03-20T23:59:59+00:00' is before 2006-03-21" in by_row[5][1]
    assert "is after now + 1 day" in by_row[7][1]


def test_mastodon_and_lynguo_post_dates_are_bounded_too(db, tmp_path):
    later = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    statuses = [status("1", "9999-12-31T23:00:00-05:00"), status("2", "2001-01-01T00:00:00Z"), status("3", later),
                status("4", "2024-06-02T08:00:00.000Z", edited_at="9999-12-31T23:00:00-05:00")]  # fmt: skip
    got = load(db, "mastodon", write(tmp_path, "mastodon_dates.json", json.dumps(statuses)))
    assert (got.read, got.loaded, got.quarantined) == (4, 1, 3)  # edited_at is not stored: only created_at counts
    assert [(row, f) for row, f, _ in got.reasons] == [(1, "created_at"), (2, "created_at"), (3, "created_at")]
    got = load(db, "lynguo", FIXTURES / "lynguo_impossible_dates.csv")
    assert (got.read, got.loaded, got.quarantined) == (6, 1, 5)
    assert [(row, f) for row, f, _ in got.reasons] == [
        (2, "Fecha"),
        (3, "Fecha"),
        (4, "Fecha"),
        (5, "Fecha"),
        (6, "Fecha"),
    ]
    text = got.reasons_text()
    assert "'0001-01-01 00:00:00' is before 2006-03-21T00:00Z" in text and "'31/12/9999' is after now + 1 day" in text
    assert "'9999-12-31T23:00:00-05:00' is after now + 1 day" in text and "'0000-01-01 00:00:00'" in text


# --- JSON: deep, long, NUL, not UTF-8, not JSON ---------------------------------------------------------


@pytest.mark.parametrize("format", ["twitter_v2", "mastodon"])
def test_json_nested_10_5_deep_is_one_quarantined_value(db, tmp_path, format):
    got = load(db, format, write(tmp_path, f"{format}_deep_array.json", "[" * DEEP + "]" * DEEP))
    assert (got.read, got.loaded, got.quarantined) == (1, 0, 1)
    assert "is nested too deeply to read; the rest of the file was not read" in got.reasons[0][2]
    # JSON lines: the deep line costs that line, the next one loads
    good = tweet_page("1785004000000000001") if format == "twitter_v2" else status("1785004000000000001")
    deep = '{"data": ' + "[" * DEEP + "]" * DEEP + "}" if format == "twitter_v2" else '{"a":' * DEEP + "1" + "}" * DEEP
    got = load(db, format, write(tmp_path, f"{format}_deep_line.jsonl", deep + "\n" + json.dumps(good) + "\n"))
    assert (got.read, got.loaded, got.quarantined) == (2, 1, 1)
    assert "line 1, column 1 is nested too deeply to read" in got.reasons[0][2]


def test_json_numbers_too_long_to_convert_are_quarantined(db, tmp_path):
    page = json.dumps(tweet_page("1785004000000000002"))
    bad = '{"data": [{"id": ' + "7" * 5000 + "}]}"
    got = load(db, "twitter_v2", write(tmp_path, "twitter_v2_long_number.jsonl", bad + "\n" + page + "\n"))
    assert (got.read, got.loaded, got.quarantined) == (2, 1, 1)
    assert "cannot be read: Exceeds the limit (4300 digits)" in got.reasons[0][2]


def test_nul_escapes_are_removed_recorded_and_never_reach_postgresql(db):
    got = load(db, "twitter_v2", FIXTURES / "twitter_v2_nul_escapes.jsonl")
    assert (got.read, got.loaded, got.quarantined) == (1, 1, 0)
    assert got.unmapped == {(f, NUL_REMOVED): 1 for f in ("data.text", "data.entities.hashtags.tag",
                                                          "data.entities.mentions.username",
                                                          "data.entities.urls.expanded_url", "includes.users.name",
                                                          "includes.users.username")}  # fmt: skip
    ((text, handle, hashtags, mentions, urls),) = posts(
        db, got.load_id, "text, author_handle, hashtags, mention_handles, urls"
    )
    assert text == "Bat walk tonight #BatCount with @night_owls_demo https://t.co/Zz" and handle == "bat_group_demo"
    assert (hashtags, mentions, urls) == (["batcount"], ["night_owls_demo"], ["https://bats.example.org/walk-2024"])

    got = load(db, "mastodon", FIXTURES / "mastodon_nul_escapes.json")
    assert (got.read, got.loaded, got.quarantined) == (1, 1, 0)
    assert got.unmapped == {(f, NUL_REMOVED): 1 for f in ("content", "account.acct", "account.display_name",
                                                          "mentions.acct", "tags.name", "card.url")}  # fmt: skip
    ((text, handle, hashtags, mentions, urls),) = posts(
        db, got.load_id, "text, author_handle, hashtags, mention_handles, urls"
    )
    assert text == "Bat walk tonight with @owls #BatCount" and handle == "batgroup@fediscience.example"
    assert (hashtags, mentions, urls) == (["batcount"], ["owls@fediscience.example"], ["https://bats.example.org/walk"])


@pytest.mark.parametrize(
    ("format", "over_limit"),
    [("twitter_v2", {"text": "x" * (MAX_CELL_CHARS + 1)}),
     ("twitter_v2", {"entities": {"hashtags": [{"start": 0, "end": 1, "tag": "h" * (MAX_CELL_CHARS + 5)}]}}),
     ("mastodon", {"content": "<p>" + "y" * (MAX_CELL_CHARS + 1) + "</p>"}),
     ("mastodon", {"card": {"url": "https://example.org/" + "z" * MAX_CELL_CHARS}})],
    ids=["tweet-text", "hashtag", "status-content", "card-url"],
)  # fmt: skip
def test_strings_over_the_cell_limit_quarantine_their_post(db, tmp_path, format, over_limit):
    if format == "twitter_v2":
        values = [tweet_page("1785005000000000001", **over_limit), tweet_page("1785005000000000002")]
    else:
        values = [status("1785005000000000001", **over_limit), status("1785005000000000002")]
    got = load(db, format, write(tmp_path, f"{format}_long.jsonl", "\n".join(map(json.dumps, values)) + "\n"))
    assert (got.read, got.loaded, got.quarantined) == (2, 1, 1)
    ((row, field_, reason),) = got.reasons
    assert (
        row == 1
        and field_ in ("text", "hashtags", "urls")
        and f"over the limit of {MAX_CELL_CHARS} (128 KiB)" in reason
    )


def test_invalid_utf8_in_a_json_string_quarantines_that_post(db):
    got = load(db, "twitter_v2", FIXTURES / "twitter_v2_invalid_utf8.jsonl")
    assert (got.read, got.loaded, got.quarantined) == (2, 1, 1)
    assert got.reasons == [(1, "text", "post 1: invalid UTF-8 bytes (or a lone surrogate) in text")]


@pytest.mark.parametrize(
    ("name", "data"),
    [("utf16", (FIXTURES / "twitter_v2_search_recent.json").read_text(encoding="utf-8").encode("utf-16")),
     ("latin1", json.dumps(tweet_page("1785006000000000001", text="Café"), ensure_ascii=False).encode("latin-1")),
     ("csv", (HEADER + "\n2024-06-03 09:00:00;Twitter;hola;;;@uno;;\n").encode()),
     ("truncated", (FIXTURES / "twitter_v2_search_recent.json").read_bytes()[:5000]),
     ("binary", random.Random(13).randbytes(6000)),
     ("empty", b"")],
)  # fmt: skip
@pytest.mark.parametrize("format", ["twitter_v2", "mastodon"])
def test_files_that_are_not_utf8_json_are_quarantined_and_reconciled(db, tmp_path, format, name, data):
    got = load(db, format, write(tmp_path, f"{format}_{name}.json", data))
    if isinstance(got, str):  # a one-line refusal is also fine
        return
    # a pretty-printed page cut short: the sequence resumes line by line, so whole tweet objects after the
    # break may still load (without the page's `includes`); everything else is quarantined
    assert got.loaded == 0 or name == "truncated"
    if data:
        assert got.quarantined >= 1
        assert any(
            word in got.reasons_text()
            for word in ("not valid JSON", "invalid UTF-8", "not a JSON object", "is missing")
        )


# --- lynguo CSV ----------------------------------------------------------------------------------------


def test_lynguo_unterminated_quote_quarantines_the_rest_and_leaks_nothing(db):
    got = load(db, "lynguo", FIXTURES / "lynguo_unterminated_quote.csv")
    assert (got.read, got.loaded, got.quarantined) == (2, 1, 1)
    reason = ("line 3: a quoted cell opened here is never closed (unterminated quote?): nothing after "
              "it can be trusted, so this line and the rest of the file were not read")  # fmt: skip
    assert got.reasons == [(3, None, reason)]
    (row,) = posts(db, got.load_id, "text, author_handle")
    assert row == ("Primera publicación", "uno_private_person")
    everything = json.dumps(
        query(db[0], "select * from raw.social_post where _load_id = %s", (got.load_id,)), default=str
    )
    assert "tres_private_person@example.org" not in everything and "cuarta" not in everything


def test_lynguo_nul_bytes_are_removed_and_recorded(db):
    got = load(db, "lynguo", FIXTURES / "lynguo_nul_bytes.csv")
    assert (got.read, got.loaded, got.quarantined) == (2, 2, 0)
    assert got.unmapped == {("Texto", NUL_REMOVED): 1, ("Usuario", NUL_REMOVED): 1, ("Impacto", NUL_REMOVED): 1}
    rows = posts(db, got.load_id, "text, author_handle, hashtags, reach")
    assert rows[0] == ("Paseo de murciélagos #Murcielagos", "uno_private_person", ["murcielagos"], 10)
    assert rows[1][3] == 3


def test_lynguo_records_with_more_or_fewer_fields_are_quarantined_with_the_counts(db):
    got = load(db, "lynguo", FIXTURES / "lynguo_field_counts.csv")
    assert (got.read, got.loaded, got.quarantined) == (4, 2, 2)  # trailing empty fields are a spreadsheet's: fine
    assert [(row, reason) for row, _, reason in got.reasons] == [
        (3, "line 3: 9 fields where the header has 8"),
        (4, "line 4: 3 fields where the header has 8"),
    ]


def test_lynguo_cells_over_128_kib_are_quarantined(db, tmp_path):
    data = (HEADER + "\n2024-06-03 09:00:00;Twitter;" + "x" * (MAX_CELL_CHARS + 1) + ";;;@uno_private_person;;\n"
            + "2024-06-03 10:00:00;Twitter;corto;;;@dos_private_person;;\n")  # fmt: skip
    got = load(db, "lynguo", write(tmp_path, "lynguo_big_cell.csv", data))
    assert (got.read, got.loaded, got.quarantined) == (2, 1, 1)
    assert got.reasons == [(2, None, "line 2: not valid CSV: a cell is over 128 KiB")]


def test_lynguo_headers_naming_a_column_twice_or_not_csv_are_refused(db):
    got = load(db, "lynguo", FIXTURES / "lynguo_duplicated_header.csv")
    assert (got.read, got.loaded, got.quarantined) == (1, 0, 1)
    reason = ("line 1: the header names Texto 2 times (columns 3, 9): which one holds the data"
              " is unknown, so the file was not read")  # fmt: skip
    assert got.reasons == [(1, "Texto", reason)]
    got = load(db, "lynguo", FIXTURES / "lynguo_header_not_csv.csv")
    assert (got.read, got.loaded, got.quarantined) == (1, 0, 1)
    assert got.reasons[0][2].startswith("line 1: unreadable header (")


def test_lynguo_in_windows_1252_quarantines_the_records_it_cannot_read(db):
    got = load(db, "lynguo", FIXTURES / "lynguo_windows1252.csv")
    assert (got.read, got.loaded, got.quarantined) == (2, 1, 1)
    assert got.reasons == [(2, "Texto", "line 2: invalid UTF-8 bytes (or a lone surrogate) in Texto")]


@pytest.mark.parametrize(
    "data",
    [random.Random(5).randbytes(5000), b"\x00" * 300, "\ufeff".encode() + b"\n\n\n", b'"' * 7 + b"\n;;\n"],
    ids=["random", "nul-only", "bom-blank-lines", "quotes"],
)
def test_lynguo_garbage_is_quarantined_or_refused_in_one_line(db, tmp_path, data):
    got = load(db, "lynguo", write(tmp_path, f"lynguo_garbage_{len(data)}.csv", data))
    if not isinstance(got, str):
        assert got.loaded == 0 and got.read == got.quarantined


# --- end to end: impossible dates never published, the report renders -------------------------------


def test_impossible_dates_are_quarantined_the_rest_is_published_and_the_report_renders(
    server_db, cstrack, query, tmp_path
):

    day_after_tomorrow = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    page = json.loads((FIXTURES / "twitter_v2_search_recent.json").read_text(encoding="utf-8"))
    impossible = {
        "0001-01-01T00:30:00+01:00": "1785007000000000001",  # year 1 BC once in UTC
        "9999-12-31T23:00:00-05:00": "1785007000000000002",  # year 10000 once in UTC
        "2005-08-15T12:00:00.000Z": "1785007000000000003",
        day_after_tomorrow.isoformat(): "1785007000000000004",
    }
    for stamp, tweet_id in impossible.items():
        page["data"].append(
            {**page["data"][0], "id": tweet_id, "edit_history_tweet_ids": [tweet_id], "created_at": stamp}
        )
    twitter = write(tmp_path, "twitter_v2_with_impossible_dates.json", json.dumps(page, ensure_ascii=False))
    statuses = json.loads((FIXTURES / "mastodon_tag_timeline.json").read_text(encoding="utf-8"))
    statuses.append({**statuses[0], "uri": "https://fediscience.example/users/pondwatch/statuses/9",
                     "created_at": day_after_tomorrow.strftime("%Y-%m-%dT%H:%M:%S.000Z")})  # fmt: skip
    mastodon = write(tmp_path, "mastodon_with_impossible_dates.json", json.dumps(statuses, ensure_ascii=False))

    load_catalogue_inbox(server_db)  # projects, so that posts link
    for format, path, expected in [("twitter_v2", twitter, "read 15, loaded 10, quarantined 5"),
                                   ("mastodon", mastodon, "read 6, loaded 5, quarantined 1"),
                                   ("lynguo", FIXTURES / "lynguo_impossible_dates.csv",
                                    "read 6, loaded 1, quarantined 5")]:  # fmt: skip
        done = cstrack("load", "social", "--format", format, str(path), check=True)
        assert expected in done.stdout, done.stdout
    quarantined = query(server_db, "select field, reason from ops.quarantine where field in ('created_at', 'Fecha')")
    assert len(quarantined) == 4 + 1 + 5
    for stamp in impossible:
        assert any(repr(stamp) in reason for _, reason in quarantined), stamp

    marts.build(server_db)
    ((published, earliest, latest),) = query(
        server_db, "select count(*), min(posted_at), max(posted_at) from marts.fct_social_post"
    )
    assert published == 10 + 5 + 1  # every post that loaded, none that was quarantined
    assert earliest >= FIRST_POST_AT and latest <= datetime.now(UTC) + timedelta(days=1)
    assert query(server_db, "select count(*) from marts.fct_social_post where post_id like '17850070000000000%%'") == [
        (0,)
    ]

    done = cstrack("report", check=True)
    index = Path(done.stdout.strip().rsplit(" ", 1)[-1])
    assert index.is_file() and "<html" in index.read_text(encoding="utf-8").lower()


# --- property tests of the readers on random bytes -----------------------------------------------------

PROPERTY = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
# random bytes, and bytes made of the pieces that break readers: brackets, quotes, escapes, NUL, bad UTF-8
pieces = st.sampled_from([b"[", b"]", b"{", b"}", b'"', b":", b",", b"\n", b";", b"\\", b"\\u0000", b"\\ud800", b"\x00",
                          b"\xff", b"\xc3", b"\xef\xbb\xbf", b"1" * 40, b"[" * 3000, b'{"data":',
                          b'"created_at":"9999-12-31T23:00:00-05:00"', b'"id":"1"', b'"text":"t"', b'"author_id":"2"',
                          HEADER.encode(), b"2024-01-01 10:00", b"0001-01-01 00:00"])  # fmt: skip
random_bytes = st.binary(max_size=300) | st.lists(pieces | st.binary(max_size=6), max_size=40).map(b"".join)


@pytest.fixture(scope="module")
def enricher():
    os.environ.setdefault("CSTRACK_PSEUDONYM_KEY", "hostile-social")
    return Enricher()


def storable(values: tuple) -> None:
    """What PostgreSQL text accepts: no NUL, valid UTF-8, no string over the cell limit."""
    for value in values:
        for string in value if isinstance(value, list) else [value]:
            if isinstance(string, str):
                assert "\x00" not in string and len(string) <= MAX_CELL_CHARS
                string.encode("utf-8")


@PROPERTY
@given(data=random_bytes)
def test_iter_json_values_never_raises_on_random_bytes(tmp_path, data):
    path = tmp_path / "random.json"
    path.write_bytes(data)
    nul: Counter = Counter()
    for value, error in iter_json_values(path, nul):
        assert (value is None) or error is None
        if error is not None:
            assert isinstance(error, str) and error.strip()
    assert all(n > 0 for n in nul.values())


@PROPERTY
@given(data=random_bytes, format=st.sampled_from(FORMATS))
def test_social_parsers_load_or_quarantine_random_bytes(tmp_path, enricher, data, format):
    """Every record parses, or is quarantined with a reason; only a MappingError (one line) may end a file;
    every loaded row is storable."""
    path = tmp_path / f"{format}_random"
    path.write_bytes((HEADER.encode() + b"\n" + data) if format == "lynguo" and data[:1] != b"F" else data)
    unmapped: Counter = Counter()
    try:
        for number, values, reason, _field, _raw in prepared_rows(format, path, enricher, unmapped):
            assert isinstance(number, int)
            if values is None:
                assert reason and reason.strip() and "\x00" not in reason
            else:
                storable(values)
                assert FIRST_POST_AT <= values[COLUMNS.index("posted_at")] <= datetime.now(UTC) + timedelta(days=1)
    except CstrackError as exc:  # the documented refusal: one line
        assert "\n" not in str(exc)
    for field_, value in unmapped:
        storable((field_, value))

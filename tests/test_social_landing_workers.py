"""Landing in worker processes (social/landing_workers.py): a JSON lines export read in parts by forked workers
lands the rows, numbers, reasons, months and NUL counts one process gives; a file that is not JSON lines
throughout goes back to one process, also after parts were COPYed (the savepoint), with the same result."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cstrack.demo.generate.social import generate_social
from cstrack.ingest import pool
from cstrack.ingest.loading import BinaryRowEncoder, NotEncodable, encoded_blocks
from cstrack.ingest.social import enrich, json_stream, landing_workers, load, twitter_v2
from cstrack.ingest.social.enrichment import Enricher
from cstrack.ingest.social.json_stream import NotJsonLines, iter_json_values, json_lines_values
from cstrack.ingest.social.posts import COLUMNS

# lines real exports hold besides good pages: what orjson declines (the json module reads it), errors of the
# API, broken lines, blank and CRLF lines
ODD_TWITTER_LINES = [
    "",
    "   ",
    "not json at all",
    '{"data": [{"id": 123456789012345678901234, "author_id": "8", "created_at": "2024-05-01T10:00:00Z"}]}',
    '{"data": [{"id": "9003", "author_id": "8", "created_at": "2024-05-01T10:00:00Z", "text": "x\\u0000y"}]}',
    '{"data": [{"id": "9004", "author_id": "8", "created_at": "2024-05-01T10:00:00Z", "text": "bad \\ud800"}]}',
    '{"n": NaN}',
    '{"data": [], "errors": [{"resource_id": "77", "title": "Not Found Error", "detail": "gone"}]}',
    '{"data": "nope"}',
    '{"id": "9005", "author_id": "9", "created_at": "2024-05-02T10:00:00Z", "text": "a bare tweet"}',
    '{"data": [{"id": "9006", "author_id": "8"}]} {"data": []}',
    '{"data": [{"id": "9007", "author_id": "8", "created_at": "2024-05-03T10:00:00Z", "text": "crlf"}]}\r',
    "[1, 2]",
]


def twitter_with_odd_lines(folder: Path, posts: int) -> Path:
    path = generate_social("twitter_v2", folder / "twitter_v2_odd.jsonl", posts, seed=11)
    lines = path.read_text(encoding="utf-8").splitlines()
    mixed = []
    for i, line in enumerate(lines):
        mixed += [line, ODD_TWITTER_LINES[i % len(ODD_TWITTER_LINES)]]
    path.write_text("\n".join(mixed) + "\n", encoding="utf-8")
    return path


def mastodon_lines(folder: Path, posts: int) -> Path:
    """The generator's statuses (a JSON array) as JSON lines, with a broken line and a private status."""
    array = generate_social("mastodon", folder / "mastodon_array.json", posts, seed=5)
    statuses = json.loads(array.read_text(encoding="utf-8"))
    lines = [json.dumps(s, ensure_ascii=False) for s in statuses]
    lines[7:7] = ["{broken", json.dumps({**statuses[0], "visibility": "direct"})]
    path = folder / "mastodon_lines.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def one_process(format: str, path: Path) -> tuple[bytes, list, Counter, Counter]:
    """What one process lands: the encoded rows, the quarantined rows, posts per month, NUL removals."""
    months, unmapped = Counter(), Counter()
    rows = enrich.counting_months(load.prepared_rows(format, path, Enricher(), unmapped), months)
    (encoded,) = encoded_blocks(rows, BinaryRowEncoder(load.POSTS_TABLE), 1, str(path), block_bytes=None)
    return encoded.data, encoded.rejected, months, unmapped


def in_workers(format: str, path: Path, workers: int = 2) -> tuple[bytes, list, Counter, Counter]:
    months, unmapped = Counter(), Counter()
    encoded = landing_workers.encoded_posts(format, path, load.POSTS_TABLE, workers, months, unmapped, None)
    data, rejected = b"", []
    for block in encoded.blocks(1, str(path)):
        data += block.data
        rejected += block.rejected
    return data, rejected, months, unmapped


@pytest.fixture
def small_parts(monkeypatch):
    monkeypatch.setenv("CSTRACK_PSEUDONYM_KEY", "k-landing-workers")
    monkeypatch.setattr(landing_workers, "PART_BYTES", 3000)  # many parts, and pages cut across them


@pytest.mark.parametrize("format", ["twitter_v2", "mastodon"])
def test_workers_land_the_bytes_numbers_and_reasons_of_one_process(tmp_path, small_parts, format):
    path = twitter_with_odd_lines(tmp_path, 3000) if format == "twitter_v2" else mastodon_lines(tmp_path, 300)
    expected = one_process(format, path)
    got = in_workers(format, path)
    assert got[1] == expected[1] and got[2:] == expected[2:]
    assert got[0] == expected[0]  # every row, byte for byte, in file order
    reasons = [reason for _source, _number, _field, reason, _raw in got[1]]
    if format == "twitter_v2":
        assert len(reasons) > 10 and any("not available" in r for r in reasons) and any("line " in r for r in reasons)
        assert sum(expected[3].values()) > 0  # NUL removals counted in the workers too
    else:
        assert len(reasons) == 2 and "line 8" in reasons[0]


def test_a_file_that_is_not_json_lines_goes_back_to_one_process_after_parts_were_copied(
    server_db, query, tmp_path, small_parts, monkeypatch
):
    """A page over several lines after a few parts: the workers' rows are rolled back to the savepoint and the
    file lands in one process, with the same rows and quarantine as a load that never used workers."""
    path = generate_social("twitter_v2", tmp_path / "twitter_v2_pretty.jsonl", 3000, seed=4)
    lines = path.read_text(encoding="utf-8").splitlines()
    pretty = json.dumps(json.loads(lines[1]), indent=2)
    path.write_text("\n".join([*lines[:-2], "not json", pretty, lines[-2], lines[-1]]) + "\n", encoding="utf-8")
    with pytest.raises(NotEncodable, match=r"line 3\d, column 1 reaches the end of its line"):
        in_workers("twitter_v2", path)
    monkeypatch.setattr(landing_workers, "workers_for", lambda format, path: 2)
    result = load.load_social("twitter_v2", path, server_db, enrich=False)
    columns = ", ".join(COLUMNS)
    landed = query(server_db, f"select _source_row, {columns} from raw.social_post order by _source_row")
    quarantined = query(server_db, "select source_row, reason from ops.quarantine order by source_row")
    expected = [(n, *values) for n, values, *_ in load.prepared_rows("twitter_v2", path, Enricher()) if values]
    assert [tuple(row) for row in landed] == expected
    assert (result.rows_loaded, result.rows_quarantined) == (len(expected), len(quarantined)) and quarantined
    months = query(server_db, "select sum(posts) from ops.social_enrichment where load_id = %s", (result.load_id,))
    assert months[0][0] == len(expected)  # the months the workers counted were rolled back with their rows


def test_a_large_export_lands_through_workers_into_postgres(server_db, query, tmp_path, small_parts, monkeypatch):
    path = twitter_with_odd_lines(tmp_path, 3000)
    monkeypatch.setattr(landing_workers, "workers_for", lambda format, path: 2)
    parts = []
    original = landing_workers._parts
    monkeypatch.setattr(landing_workers, "_parts", lambda *args: (parts.append(p) or p for p in original(*args)))
    result = load.load_social("twitter_v2", path, server_db, enrich=False)
    assert len(parts) > 20  # handed to the workers a part at a time
    columns = ", ".join(COLUMNS)
    landed = query(server_db, f"select _source_row, {columns} from raw.social_post order by _source_row")
    expected = [(n, *values) for n, values, *_ in load.prepared_rows("twitter_v2", path, Enricher()) if values]
    assert [tuple(row) for row in landed] == expected
    quarantined = query(server_db, "select source_row, field, reason from ops.quarantine order by source_row")
    expected_bad = [
        (n, field, reason)
        for n, values, reason, field, _raw in load.prepared_rows("twitter_v2", path, Enricher())
        if values is None
    ]
    assert [tuple(row) for row in quarantined] == expected_bad
    assert result.rows_read == len(expected) + len(expected_bad)


line_kinds = st.sampled_from(
    [*ODD_TWITTER_LINES, '{"a": 1,', '  "b": 2}', '"text"', "12345678901234567890123", "\ufeff{}", '{"a": "\r"}',
     "\r{}", "{}\r\r", "\r", "\ufeff", "\ufeff[1]", "x" * 70, '{"t": "' + "y" * 60 + '"}']
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_kinds, max_size=12), cuts=st.lists(st.integers(0, 12), max_size=4))
@example(lines=['{"a": 1,', '  "b": 2}'], cuts=[1])
@example(lines=["\ufeff[1,", "2]"], cuts=[])
@example(lines=["", "[1, 2]"], cuts=[1])
@example(lines=["", "\ufeff[1,2]"], cuts=[1])
@example(lines=["{bad\r\r", '{"a":1}\r\r', "{bad2\r\r"], cuts=[1])
@example(lines=["{bad", '\r{"a":1}', "{bad2"], cuts=[1])
@example(lines=["{}", "x" * 70, "{bad"], cuts=[2])
@example(lines=['  "b": 2}', "not json at all"], cuts=[])
def test_json_lines_values_reads_parts_as_iter_json_values_reads_the_file(tmp_path, lines, cuts, monkeypatch):
    """Read in parts cut at line ends, a file gives the values and errors it gives read whole, or NotJsonLines.
    (Lines of 64 bytes and more are too long here.)"""
    monkeypatch.setattr(json_stream, "MAX_LINE_BYTES", 64)
    path = tmp_path / "lines.jsonl"
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(data)
    whole = list(iter_json_values(path))
    raw_lines = data.split(b"\n")[:-1]
    bounds = sorted({0, len(raw_lines), *(c for c in cuts if c <= len(raw_lines))})
    parts: list = []
    try:
        for start, end in zip(bounds, bounds[1:], strict=False):
            part = b"".join(line + b"\n" for line in raw_lines[start:end])
            parts += list(json_lines_values(part, start, Counter(), first=not parts))
    except NotJsonLines:
        return
    assert parts == whole


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["id", "data", "errors", "x"]), inner),
    max_leaves=8,
)
pages = st.fixed_dictionaries(
    {}, optional={"data": json_values | st.lists(json_values, max_size=3), "errors": json_values, "id": json_values}
)


@settings(max_examples=300, deadline=None)
@given(page=pages | json_values, error=st.none() | st.just("not valid JSON at line 1, column 1: Expecting value"))
def test_a_page_item_count_is_the_number_of_items_the_page_gives(page, error):
    """The numbers the main process hands out are the ones the parser gives: the counting and the parsing of a
    page share _page_items, and this checks the sum."""
    assert twitter_v2.page_item_count(page, error) == len(list(twitter_v2.twitter_items([(page, error)])))


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_no_workers_while_other_work_keeps_the_cores_busy():
    """Workers only where cores are idle now: with as many busy processes as cores, none (even though the
    1-minute load average has not risen yet)."""
    busy = [multiprocessing.get_context("fork").Process(target=_spin, args=(3.0,)) for _ in range(os.cpu_count() or 1)]
    for process in busy:
        process.start()
    try:
        time.sleep(0.3)
        assert len(busy) <= pool.runnable_now() < 1 << 20  # read from /proc/loadavg
        assert pool.default_workers(1 << 30, 1, 2) == 0
    finally:
        for process in busy:
            process.terminate()
            process.join()


def test_parts_of_a_file_with_bad_lines_read_as_the_whole_file(tmp_path):
    """Lines orjson declines but the text reader reads alone (errors, long numbers, NaN, two values) are read in
    the parts: no going back to one process for them."""
    lines = ["{}", "not json at all", '{"n": NaN}', "{} {}", '{"id": 123456789012345678901234}', "", "{}\r"]
    data = ("\n".join(lines) + "\n").encode()
    (tmp_path / "bad.jsonl").write_bytes(data)
    whole = list(iter_json_values(tmp_path / "bad.jsonl"))
    parts = list(json_lines_values(data[:3], 0, None, first=True))
    parts += list(json_lines_values(data[3:], 1, None, first=False))
    assert parts == whole and len(whole) == 7 and whole[1][1].startswith("not valid JSON at line 2, column 1")

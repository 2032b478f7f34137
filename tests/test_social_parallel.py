"""Land, then enrich (social/enrich.py): a landed load is held from builds until its months are enriched; the
enrichment, sequential or in worker processes, writes the rows the one-step computation gives (landed values
plus Enricher.enrichment), quarantine included; a failed month is rolled back and done again; loads reach builds
in load order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cstrack.demo.generate.social import generate_social
from cstrack.ingest.social import enrich, load
from cstrack.ingest.social.enrichment import Enricher
from cstrack.ingest.social.posts import COLUMNS, FORMATS

BAD_TWEETS = [
    '{"data": [{"id": "9001", "author_id": "8", "text": "no created_at"}]}',  # quarantined by the parser
    "not json at all",
    # a lone surrogate in the text: quarantined when the row is built
    '{"data": [{"id": "9002", "author_id": "8", "created_at": "2024-05-01T10:00:00Z", "text": "bad \\ud800 text"}]}',
]
ENRICHED = ("language", "language_detected", "sentiment", "sdgs")


def posts_with_bad_records(format: str, folder: Path, posts: int) -> Path:
    path = generate_social(format, folder / f"{format}_posts", posts, seed=3)
    if format == "twitter_v2":  # JSON lines: bad lines between good ones
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(lines[:3] + BAD_TWEETS + lines[3:]) + "\n", encoding="utf-8")
    elif format == "mastodon":  # a JSON array: a private status and a status without account
        statuses = json.loads(path.read_text(encoding="utf-8"))
        statuses[5:5] = [{**statuses[0], "visibility": "direct"}, {**statuses[1], "account": None}]
        path.write_text(json.dumps(statuses, ensure_ascii=False), encoding="utf-8")
    else:  # lynguo: a record with too few fields and one without a date
        with path.open("a", encoding="utf-8") as out:
            out.write("a;b\n;Twitter;texto;;;someone;;\n")
    return path


def expected_rows(format: str, path: Path) -> tuple[list[tuple], list[tuple]]:
    """(source row, values) of the posts as they should end enriched, computed in one step; (row, reason) of the
    quarantined ones."""
    enricher = Enricher()
    good, bad = [], []
    where = {name: COLUMNS.index(name) for name in ("source_language", "text", "hashtags", *ENRICHED)}
    for number, values, reason, *_ in load.prepared_rows(format, path, enricher):
        if values is None:
            bad.append((number, reason))
            continue
        values = list(values)
        enriched = enricher.enrichment(
            values[where["source_language"]], values[where["text"]], values[where["hashtags"]]
        )
        for name, value in zip(ENRICHED, enriched, strict=True):
            values[where[name]] = value
        good.append((number, *values))
    return good, bad


def raw_rows(query, wh) -> list[tuple]:
    return query(wh, f"select _source_row, {', '.join(COLUMNS)} from raw.social_post order by _load_id, _source_row")


@pytest.mark.parametrize("workers", [0, 2])
def test_landing_holds_the_load_and_enrichment_writes_the_one_step_rows(
    server_db, query, tmp_path, monkeypatch, workers
):
    monkeypatch.setenv("CSTRACK_PSEUDONYM_KEY", "k-parallel")
    monkeypatch.setattr(enrich, "FETCH_POSTS", 97)  # many round trips per month
    paths = {format: posts_with_bad_records(format, tmp_path, 1500) for format in FORMATS}
    expected_good, expected_bad = [], []
    for format, path in paths.items():
        result = load.load_social(format, path, server_db, enrich=False)
        good, bad = expected_rows(format, path)
        assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (
            len(good) + len(bad), len(good), len(bad),
        )  # fmt: skip
        expected_good += good
        expected_bad += bad
    # held: no commit_seq, so neither builds nor gates see the posts; their months wait
    assert query(
        server_db, "select count(*) from ops.load_run where source_kind = 'social' and commit_seq is null"
    ) == [(3,)]
    waiting = enrich.pending_months(server_db)
    assert len(waiting) >= 12 and sum(waiting.values()) == len(expected_good)
    assert query(
        server_db, "select count(*) from raw.social_post where language_detected or sentiment is not null"
    ) == [(0,)]
    parts = enrich.enrichment_parts(server_db, parts=2)
    assert sorted(m for part in parts for m in part) == sorted(waiting) and len(parts) == 2
    weights = [sum(waiting[m] for m in part) for part in parts]
    assert max(weights) - min(weights) <= max(waiting.values())  # balanced within one month's posts

    totals = enrich.enrich_pending(server_db, workers=workers, progress=None)
    assert totals["posts"] == len(expected_good) and totals["published_loads"] == 3
    assert raw_rows(query, server_db) == expected_good
    assert query(server_db, "select source_row, reason from ops.quarantine order by quarantine_id") == expected_bad
    assert enrich.pending_months(server_db) == {}
    assert query(server_db, "select count(*) from ops.load_run where commit_seq is null") == [(0,)]
    # changed rows counted per load and month: the ones with a detected language, a sentiment or an SDG
    changed = query(server_db, "select sum(posts_changed) from ops.social_enrichment")[0][0]
    detected, sentiment, sdgs = (1 + COLUMNS.index(name) for name in ENRICHED[1:])
    assert changed == sum(1 for row in expected_good if row[detected] or row[sentiment] is not None or row[sdgs])
    # a second run finds nothing to do
    assert enrich.enrich_pending(server_db, workers=workers, progress=None)["posts"] == 0


def test_a_failed_month_rolls_back_and_is_done_again(server_db, query, tmp_path, monkeypatch):
    monkeypatch.setenv("CSTRACK_PSEUDONYM_KEY", "k-parallel")
    path = posts_with_bad_records("twitter_v2", tmp_path, 800)
    load.load_social("twitter_v2", path, server_db, enrich=False)
    month = next(iter(enrich.pending_months(server_db)))
    calls = 0
    real = Enricher.enrichment

    def failing(self, *args):
        nonlocal calls
        calls += 1
        if calls == 20:
            raise RuntimeError("killed half-way")
        return real(self, *args)

    monkeypatch.setattr(Enricher, "enrichment", failing)
    with pytest.raises(RuntimeError):
        enrich.enrich_month(month, server_db)
    assert month in enrich.pending_months(server_db)  # nothing of the month was kept
    assert query(
        server_db, "select count(*) from raw.social_post where language_detected or sentiment is not null"
    ) == [(0,)]
    monkeypatch.setattr(Enricher, "enrichment", real)
    enrich.enrich_pending(server_db, progress=None)
    assert raw_rows(query, server_db) == expected_rows("twitter_v2", path)[0]


def test_loads_reach_builds_in_load_order(server_db, query, tmp_path, monkeypatch):
    """A later load whose months are enriched waits for an earlier one still pending: builds fold observations
    in commit order, and an earlier export must not count as the newer observation."""
    from datetime import UTC, datetime

    monkeypatch.setenv("CSTRACK_PSEUDONYM_KEY", "k-parallel")
    first = generate_social(
        "twitter_v2", tmp_path / "first", 300, seed=1, start=datetime(2024, 1, 1, tzinfo=UTC), months=2
    )
    second = generate_social(
        "mastodon", tmp_path / "second", 300, seed=2, start=datetime(2022, 1, 1, tzinfo=UTC), months=2
    )
    one = load.load_social("twitter_v2", first, server_db, enrich=False).load_id
    two = load.load_social("mastodon", second, server_db, enrich=False).load_id
    for (month,) in query(server_db, "select month from ops.social_enrichment where load_id = %s", (two,)):
        enrich.enrich_month(month.isoformat(), server_db)
    assert enrich.publish_enriched(server_db) == []  # the second is enriched, but the first still waits
    assert enrich.enrich_pending(server_db, progress=None)["published_loads"] == 2
    seqs = dict(query(server_db, "select load_id, commit_seq from ops.load_run where load_id in (%s, %s)", (one, two)))
    assert seqs[one] < seqs[two]


def test_an_enrichment_killed_half_way_resumes(server_db, query, tmp_path, monkeypatch):
    """SIGKILL in the middle of the months: the months done stay done, the one in progress left nothing, and a
    second run enriches the rest into the one-step rows."""
    import signal
    import subprocess
    import sys

    monkeypatch.setenv("CSTRACK_PSEUDONYM_KEY", "k-parallel")
    path = posts_with_bad_records("twitter_v2", tmp_path, 3000)
    load.load_social("twitter_v2", path, server_db, enrich=False)
    months = len(enrich.pending_months(server_db))
    script = (
        "from cstrack.ingest.social import enrich; enrich.FETCH_POSTS = 20;"
        " enrich.enrich_pending(workers=0, progress=lambda line: print(line, flush=True))"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)  # WAREHOUSE_URL
    assert "social enrichment" in child.stdout.readline()  # one month done, the next under way
    child.send_signal(signal.SIGKILL)
    child.wait()
    left = enrich.pending_months(server_db)
    assert 0 < len(left) < months
    assert query(server_db, "select count(*) from ops.load_run where commit_seq is null") == [(1,)]
    enrich.enrich_pending(server_db, progress=None)
    assert raw_rows(query, server_db) == expected_rows("twitter_v2", path)[0]
    assert query(server_db, "select count(*) from ops.load_run where commit_seq is null") == [(0,)]

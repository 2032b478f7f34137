"""Enrichment in worker processes (load_social's `workers`): the same rows, in the same order, as in one
process, quarantine included; and a parallel load on the real PostgreSQL server reconciles."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from cstrack.demo.generate.social import generate_social
from cstrack.ingest.social import load
from cstrack.ingest.social.enrichment import Enricher
from cstrack.ingest.social.posts import COLUMNS, FORMATS

BAD_TWEETS = [
    '{"data": [{"id": "9001", "author_id": "8", "text": "no created_at"}]}',  # quarantined by the parser
    "not json at all",
    # a lone surrogate in the text: quarantined by the enrichment, i.e. inside a worker
    '{"data": [{"id": "9002", "author_id": "8", "created_at": "2024-05-01T10:00:00Z", "text": "bad \\ud800 text"}]}',
]


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


def test_workers_give_the_sequential_rows_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("CSTRACK_PSEUDONYM_KEY", "k-parallel")
    # small batches: many of them, more than may wait at once
    monkeypatch.setattr(load, "BATCH_POSTS", 37)
    for format in FORMATS:
        path = posts_with_bad_records(format, tmp_path, 1200)
        unmapped_one, unmapped_two = Counter(), Counter()
        one = list(load.prepared_rows(format, path, Enricher(), unmapped_one))
        two = list(load.prepared_rows(format, path, Enricher(), unmapped_two, workers=2))
        assert two == one, format
        assert unmapped_two == unmapped_one
        assert len(one) >= 1200 and sum(values is None for _, values, *_ in one) >= 2, format


def test_a_parallel_load_reconciles_and_writes_the_sequential_rows(server_db, query, tmp_path, monkeypatch):
    monkeypatch.setenv("CSTRACK_PSEUDONYM_KEY", "k-parallel")
    monkeypatch.setattr(load, "BATCH_POSTS", 100)
    path = posts_with_bad_records("twitter_v2", tmp_path, 2000)
    expected = list(load.prepared_rows("twitter_v2", path, Enricher()))
    good = [(number, values) for number, values, *_ in expected if values is not None]
    bad = [(number, reason) for number, values, reason, *_ in expected if values is None]

    result = load.load_social("twitter_v2", path, server_db, workers=2)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (len(expected), len(good), len(bad))
    columns = ", ".join(COLUMNS)
    rows = query(server_db, f"select _source_row, {columns} from raw.social_post order by _source_row")
    assert rows == [(number, *values) for number, values in good]
    assert query(server_db, "select source_row, reason from ops.quarantine order by source_row") == bad
    assert any("invalid UTF-8" in reason for _, reason in bad)  # the worker's quarantine reached ops.quarantine


def test_workers_by_default_only_for_large_files_on_idle_cores(monkeypatch):
    from cstrack.ingest import pool

    monkeypatch.setattr(pool.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(pool.os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    size = load.PARALLEL_FROM_BYTES
    assert pool.default_workers(size, size, load.WORKERS) == 2
    assert pool.default_workers(size - 1, size, load.WORKERS) == 0  # a pool's start costs more than it saves
    monkeypatch.setattr(pool.os, "getloadavg", lambda: (1.2, 2.0, 2.0))
    assert pool.default_workers(size, size, load.WORKERS) == 0  # no core idle besides this process's
    monkeypatch.setattr(pool.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert pool.default_workers(size, size, 1) == 0  # on one core a pool only adds its overhead
    monkeypatch.setattr(pool.os, "cpu_count", lambda: 1)
    assert pool.default_workers(size, size, load.WORKERS) == 0

"""Loading social posts into raw.social_post on the real PostgreSQL server: COPY, quarantine, idempotency."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cstrack.errors import CstrackError
from cstrack.ingest.social.load import load_social, load_social_inbox
from cstrack.privacy import pseudonymise

FIXTURES = Path(__file__).parent / "fixtures" / "social"
FILES = [
    ("twitter_v2", "twitter_v2_page.json", 8, 7, 1),
    ("twitter_v2", "twitter_v2_pages.jsonl", 5, 3, 2),  # one tweet twice: two observations
    ("mastodon", "mastodon_statuses.json", 6, 4, 2),
    ("lynguo", "lynguo_export.csv", 6, 4, 2),
]


def counts(query, wh):
    return query(
        wh,
        "select (select count(*) from raw.social_post), (select count(*) from ops.load_run),"
        " (select count(*) from ops.quarantine), (select count(*) from ops.unmapped_values)",
    )[0]


def test_fixtures_load_reconcile_and_reload_as_no_op(server_db, query, tmp_path):
    for format, name, read, loaded, quarantined in FILES:
        result = load_social(format, FIXTURES / name, server_db)
        assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (read, loaded, quarantined), name
    before = counts(query, server_db)
    assert before[0] == 18
    # the same files again, and the same content under another name: nothing changes
    for format, name, *_ in FILES:
        assert load_social(format, FIXTURES / name, server_db).skipped
        copy = tmp_path / f"copy_of_{name}"
        shutil.copy(FIXTURES / name, copy)
        assert load_social(format, copy, server_db).skipped
    assert counts(query, server_db) == before
    rows = query(
        server_db,
        "select l.source_file, q.source_row, q.field, q.reason"
        " from ops.quarantine q join ops.load_run l using (load_id)"
        " where l.source_system = 'lynguo' order by q.source_row",
    )
    assert [(r[1], r[2]) for r in rows] == [(5, "Texto"), (7, "Fecha")]
    assert rows[0][3] == "line 5: invalid UTF-8 bytes (or a lone surrogate) in Texto"
    assert query(server_db, "select field, value, n from ops.unmapped_values") == [("Opinion", "Muy buena", 1)]


def test_raw_rows_carry_pseudonyms_and_enrichment(server_db, query, monkeypatch):
    monkeypatch.setenv("CSTRACK_PSEUDONYM_KEY", "k1")
    load_social("twitter_v2", FIXTURES / "twitter_v2_page.json", server_db)
    rows = {
        r[0]: r[1:]
        for r in query(
            server_db,
            "select post_id, kind, author_handle, author_pseudonym, mention_pseudonyms, language, language_detected,"
            " sentiment, hashtags, sdgs, withheld_in from raw.social_post",
        )
    }
    kind, handle, pseudonym, mentions, language, detected, sentiment, hashtags, sdgs, _withheld = rows[
        "1700000000000000003"
    ]
    assert (kind, handle) == ("quote", "kim_private_person")
    assert pseudonym == pseudonymise("5552", "social:twitter", key=b"k1") and "kim" not in pseudonym
    assert mentions == [pseudonymise("5553", "social:twitter", key=b"k1")]  # the mentioned account's id
    # the mention pseudonym is the one the same person gets as an author
    assert rows["1700000000000000004"][2] == mentions[0]
    assert (language, detected) == ("en", False) and sentiment > 0.5
    assert rows["1700000000000000001"][7:9] == (["nationalelichtmeting", "citizenscience", "sdg11"], [11])
    assert rows["1700000000000000007"][7] == ["гражданскаянаука", "наука"]
    assert rows["1700000000000000006"][4:6] == ("en", True)  # 'und' from the API: detected
    assert rows["1700000000000000006"][8] == [13]  # "Global Goal 13"
    assert rows["1700000000000000005"][9] == ["DE", "FR"]


def test_inbox_loads_by_file_name_and_refuses_unknown_names(server_db, tmp_path):
    social = tmp_path / "social"
    social.mkdir()
    shutil.copy(FIXTURES / "mastodon_statuses.json", social / "mastodon_2024.json")
    shutil.copy(FIXTURES / "lynguo_export.csv", social / "lynguo_march.csv")
    results = load_social_inbox(server_db, tmp_path)
    assert [(r.source_system, r.rows_loaded) for r in results] == [("lynguo", 4), ("mastodon", 4)]
    assert all(r.skipped for r in load_social_inbox(server_db, tmp_path))
    (social / "facebook.csv").write_text("x\n")
    with pytest.raises(
        CstrackError, match=r"facebook.csv: the file name must start with one of twitter_v2, mastodon, lynguo"
    ):
        load_social_inbox(server_db, tmp_path)


def test_cli_loads_and_reports_in_one_line(server_db, cstrack):
    done = cstrack("load", "social", "--format", "lynguo", str(FIXTURES / "lynguo_export.csv"), check=True)
    assert done.stdout.strip().endswith("read 6, loaded 4, quarantined 2 (load 1)")
    done = cstrack("load", "social", "--format", "mastodon", "no/such/file.json")
    assert done.returncode == 2 and done.stderr.strip() == "cstrack: error: no/such/file.json: data file not found"


def test_posts_always_name_an_existing_load(server_db):
    """The foreign key of raw.social_post to ops.load_run, checked per statement (migration 0012): a post of
    no load is refused, and a load whose posts are stored cannot be deleted."""
    import psycopg

    from cstrack import warehouse

    result = load_social("twitter_v2", FIXTURES / "twitter_v2_page.json", server_db)
    with warehouse.connect(server_db) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="not in ops.load_run"):
            conn.execute(
                "insert into raw.social_post (_load_id, _source, _source_row, source_format, platform, post_id,"
                " posted_at, kind, author_pseudonym) select 999999, _source, _source_row, source_format, platform,"
                " post_id, posted_at, kind, author_pseudonym from raw.social_post limit 1"
            )
    with warehouse.connect(server_db) as conn:
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="raw.social_post still holds its rows"):
            conn.execute("delete from ops.load_run where load_id = %s", (result.load_id,))

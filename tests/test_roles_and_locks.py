"""Roles from migrations and the build lock (parts of the quality and publishing issue #6 that the
walking skeleton already relies on)."""

from __future__ import annotations

import psycopg
import pytest

from cstrack import warehouse
from cstrack.errors import CstrackError
from cstrack.publish import marts


def test_reporter_reads_marts_but_not_raw_or_ops(demo_warehouse):
    with warehouse.connect(demo_warehouse.wh) as conn:
        conn.execute("set role cstrack_reporter")
        assert conn.execute("select count(*) from marts.dim_project").fetchone()[0] > 0
        for table in (
            "raw.catalogue_record",
            "raw.survey_answer",
            "raw.survey_free_text",
            "raw.social_post",
            "ops.load_run",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                conn.execute(f"select 1 from {table}")
            conn.rollback()
            conn.execute("set role cstrack_reporter")


def test_second_build_refuses_while_one_holds_the_lock(server_db):
    with marts.build_lock(server_db):
        with pytest.raises(CstrackError, match="another build is running"):
            with marts.build_lock(server_db, wait=False):
                pass
    with marts.build_lock(server_db, wait=False):  # released: free again
        pass


def test_migrations_are_recorded_once(server_db):
    assert warehouse.migrate(server_db) == []  # already applied by the fixture: nothing to do


def test_second_build_waits_for_the_first(server_db):
    import threading
    import time

    events = []
    first_holds = threading.Event()

    def first():
        with marts.build_lock(server_db):
            first_holds.set()
            time.sleep(1.0)
            events.append("first released")

    holder = threading.Thread(target=first)
    holder.start()
    first_holds.wait(10)
    with marts.build_lock(server_db):  # blocks until the first build lets go
        events.append("second acquired")
    holder.join()
    assert events == ["first released", "second acquired"]

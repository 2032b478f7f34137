"""Migrations renumbered after they shipped: a warehouse created under the old numbers upgrades in place,
nothing applied twice, its data kept."""

from __future__ import annotations

import shutil

from cstrack import warehouse


def test_a_warehouse_of_the_previous_numbering_upgrades(empty_server_db, tmp_path, monkeypatch, query):
    old_dir = tmp_path / "migrations"
    old_dir.mkdir()
    new_names = {new: old for old, new in warehouse.RENUMBERED.items()}
    for path in sorted(warehouse.MIGRATIONS_DIR.glob("*.sql")):
        shutil.copy(path, old_dir / f"{new_names.get(path.stem, path.stem)}.sql")
    assert sorted(p.stem for p in old_dir.glob("0007_*")) == ["0007_catalogue_load", "0007_jit_off"]  # the old clash

    monkeypatch.setattr(warehouse, "MIGRATIONS_DIR", old_dir)
    applied_before = warehouse.migrate(empty_server_db)
    with warehouse.connect(empty_server_db) as conn:
        conn.execute("insert into ops.publish (tables) values ('{\"kept\": 1}')")
    monkeypatch.undo()

    assert warehouse.migrate(empty_server_db) == []  # nothing applied again
    versions = [v for (v,) in query(empty_server_db, "select version from ops.schema_migration order by version")]
    assert versions == sorted(p.stem for p in warehouse.MIGRATIONS_DIR.glob("*.sql"))
    assert len(versions) == len(applied_before)
    assert query(empty_server_db, "select tables->>'kept' from ops.publish") == [("1",)]
    assert warehouse.migrate(empty_server_db) == []  # and again: idempotent

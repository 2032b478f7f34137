"""A catalogue export in each format (CSV, JSON, JSONL, XLSX) loads through a mapping alone."""

from __future__ import annotations

import json

import openpyxl
import pytest

from cstrack.ingest.catalogue import load_catalogue

RECORDS = [
    {"UID": "p1", "name": "Birdwatch", "status": {"status": "Ongoing"}, "country": "DE",
     "contactPoint": {"email": "a@example.org"}, "keywords": [{"keyword": "birds"}]},
    {"UID": "p2", "name": "Night sky", "status": {"status": "ended"}, "country": "Österreich",
     "contactPoint": {"email": "b@example.org"}, "keywords": []},
    {"UID": "p3", "name": "", "status": {"status": "ended"}, "country": "ES", "contactPoint": {}, "keywords": []},
]  # fmt: skip

NESTED_FIELDS = """\
fields:
  title: name
  status: {column: status.status, map: {ongoing: active, ended: completed}}
  countries: {column: country, parse: country}
  contact: {column: contactPoint.email, pii: true}
"""
FLAT_FIELDS = """\
fields:
  title: name
  status: {column: status, map: {ongoing: active, ended: completed}}
  countries: {column: country, parse: country}
  contact: {column: email, pii: true}
"""


def flat(record):
    return {"UID": record["UID"], "name": record["name"], "status": record["status"]["status"],
            "country": record["country"], "email": record["contactPoint"].get("email", "")}  # fmt: skip


def write_export(tmp_path, fmt):
    if fmt == "json":
        path = tmp_path / "demo.json"
        path.write_text(json.dumps({"meta": {"n": 3}, "data": {"Project": RECORDS}}), encoding="utf-8")
        return path, "records: data.Project\n" + NESTED_FIELDS
    if fmt == "jsonl":
        path = tmp_path / "demo.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS), encoding="utf-8")
        return path, NESTED_FIELDS
    rows = [flat(r) for r in RECORDS]
    if fmt == "csv":
        path = tmp_path / "demo.csv"
        lines = [";".join(rows[0])] + [";".join(r.values()) for r in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path, 'csv: {delimiter: ";"}\n' + FLAT_FIELDS
    path = tmp_path / "demo.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    book.save(path)
    return path, FLAT_FIELDS


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "xlsx"])
def test_each_format_loads_through_a_mapping(server_db, query, tmp_path, fmt):
    data, rules = write_export(tmp_path, fmt)
    mapping = tmp_path / "demo.yml"
    mapping.write_text(f"source: demo_{fmt}\nformat: {fmt}\nid: UID\n{rules}", encoding="utf-8")
    result = load_catalogue(mapping, data, server_db)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    rows = query(server_db, "select source_record_id, record, pii from raw.catalogue_record order by 1")
    assert [r[0] for r in rows] == ["p1", "p2"]
    assert rows[0][1] == {"title": "Birdwatch", "status": "active", "countries": "DE"}
    assert rows[1][1]["countries"] == "AT" and rows[1][1]["status"] == "completed"
    assert rows[0][2] == {"contact": "a@example.org"}
    assert query(server_db, "select source_row, reason from ops.quarantine") == [(3, "title is empty")]

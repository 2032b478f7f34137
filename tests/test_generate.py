"""`cstrack generate`: reproducible files in the real input formats that the real loaders take as they are."""

from __future__ import annotations

import csv
import json

import pytest

from cstrack.demo.generate import generate_inbox, social_split, survey_waves
from cstrack.demo.generate.catalogue import GOV, NL
from cstrack.ingest.catalogue import load_catalogue_inbox
from cstrack.ingest.social.load import load_social_inbox
from cstrack.ingest.survey import load_survey_inbox

SIZES = {"projects": 700, "posts": 900, "respondents": 80}
BYTE_STABLE = {".csv", ".json", ".jsonl"}  # XLSX and SAV carry their writing time


def _files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.suffix in BYTE_STABLE}


@pytest.mark.fast
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    first = generate_inbox(tmp_path / "a", **SIZES, seed=5, progress=None)
    generate_inbox(tmp_path / "b", **SIZES, seed=5, progress=None)
    generate_inbox(tmp_path / "c", **SIZES, seed=6, progress=None)
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert len(a) == 2 + 2 + 3  # two catalogues, two CSV survey sheets, three social files
    assert a == b
    assert set(a) == set(c) and all(a[name] != c[name] for name in a)
    assert {p.suffix for p in first["surveys"]} == {".csv", ".xlsx", ".sav"}


@pytest.mark.fast
def test_catalogues_share_projects_under_url_variants(tmp_path):
    generate_inbox(tmp_path, projects=2000, posts=0, respondents=0, seed=1, progress=None)
    with (tmp_path / "catalogues" / f"{GOV}_generated.csv").open(encoding="utf-8", newline="") as handle:
        gov = {r["project_name"]: r["project_url"] for r in csv.DictReader(handle)}
    with (tmp_path / "catalogues" / f"{NL}_generated.csv").open(encoding="utf-8", newline="") as handle:
        nl = {r["name"]: r["project_information_url"] for r in csv.DictReader(handle)}
    shared = [t for t in nl if t and t in gov]
    assert len(shared) > 40  # about 12% of the 800 NL projects
    assert all(gov[t] != nl[t] for t in shared)  # the same project under another form of its URL


@pytest.mark.fast
def test_sizes_split_as_asked():
    assert sum(social_split(1001).values()) == 1001
    assert social_split(3) == {"twitter_v2": 3}
    waves = survey_waves(6150)
    assert sum(n for w in waves.values() for n in w.values()) == 6150


def test_generated_inbox_loads_and_reconciles(tmp_path, server_db, query):
    written = generate_inbox(tmp_path, **SIZES, seed=11, progress=None)
    catalogue = load_catalogue_inbox(server_db, tmp_path)
    surveys = load_survey_inbox(server_db, tmp_path)
    social = load_social_inbox(server_db, tmp_path)
    assert len(catalogue) == 2 and len(surveys) == 6 and len(social) == 3

    runs = query(
        server_db, "select source_kind, source_file, status, rows_read, rows_loaded, rows_quarantined from ops.load_run"
    )
    assert len(runs) == 11 and {r[2] for r in runs} == {"succeeded"}
    assert all(read == loaded + quarantined for *_, read, loaded, quarantined in runs)
    read = {(kind, file): r for kind, file, _, r, *_ in runs}

    # every record of the files was read: one per CSV record, one per post, one per answer cell (19 items)
    for path in written["catalogues"]:
        with path.open(encoding="utf-8", newline="") as handle:
            assert read["catalogue", str(path)] == sum(1 for _ in csv.DictReader(handle))
    # twitter_v2: a deleted tweet reported in a page's `errors` is read (and quarantined) too
    pages = [json.loads(line) for line in (tmp_path / "social" / "twitter_v2_generated.jsonl").open()]
    deleted = sum(len(page.get("errors", [])) for page in pages)
    assert (
        read["social", str(tmp_path / "social" / "twitter_v2_generated.jsonl")]
        == sum(len(p["data"]) for p in pages) + deleted
    )
    assert sum(r for (kind, _), r in read.items() if kind == "social") == SIZES["posts"] + deleted
    respondents = sum(n for w in survey_waves(SIZES["respondents"]).values() for n in w.values())
    assert sum(r for (kind, _), r in read.items() if kind == "survey") == respondents * 19

    (loaded,) = query(server_db, "select count(*) from raw.catalogue_record")[0]
    assert loaded == sum(r[4] for r in runs if r[0] == "catalogue") > 0.99 * SIZES["projects"]

"""The extraction fast paths (issue #8) give exactly what the plain code gives: per-value caches of the
Canonicaliser, the whitespace and URL shortcuts. Pure functions: no server, no HTTP."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit, urlunsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cstrack.ingest import crawl_extract as extract
from cstrack.ingest.parsing import collapse_whitespace, parse_url

pytestmark = pytest.mark.fast  # no database, dbt build, browser or Airflow run


def _item(i: int, **over) -> dict:
    item = {
        "id": i, "name": f"Project {i}", "url": f"https://p{i}.example.org/", "status": {"status": "ongoing"},
        "country": ["Spain", "spain"], "topic": [{"topic": "Birds"}], "keywords": "app, monitoring",
        "start_date": "2019-03-01T00:00:00Z", "language": "es",
        "mainOrganisation": {"name": "Lab", "contactPointEmail": "a@b.org"},
    }  # fmt: skip
    return {**item, **over}


def test_cached_values_are_not_shared_between_records():
    canon = extract.Canonicaliser()
    first, second = (extract.eucs_project(_item(i), canon).record for i in (1, 2))
    assert first["countries"] == ["ES"] and first["topics"] == ["Birds"]
    first["countries"].append("XX")  # a caller changing one record's list ...
    first["topics"].clear()
    assert second["countries"] == ["ES"] and second["topics"] == ["Birds"]  # ... changes no other record
    third = extract.eucs_project(_item(3), canon).record
    assert third["countries"] == ["ES"] and third["topics"] == ["Birds"] and third["keywords"] == ["app", "monitoring"]


def test_a_rejected_value_is_counted_at_every_occurrence_though_cached():
    canon = extract.Canonicaliser()
    body = json.dumps([_item(i, country="Atlantis", start_date="2021-02-30") for i in range(5)]).encode()
    result = extract.extract_eucs("u", body, canon)
    assert [p.record["countries"] for p in result.projects] == [[]] * 5
    assert canon.unmapped == {("countries", "Atlantis"): 5, ("start_date", "2021-02-30"): 5}


def test_cache_is_bounded_and_gives_the_same_values_after_emptying(monkeypatch):
    monkeypatch.setattr(extract, "CACHE_SIZE", 3)
    canon = extract.Canonicaliser()
    statuses = [f"status {i % 7}" for i in range(30)] + [" n/a ", "ongoing", "  on   hold "]
    got = [canon.record({"status": s})["status"] for s in statuses]
    assert got == [" ".join(s.split()) if s.strip() != "n/a" else None for s in statuses]
    assert all(len(cache) <= 3 for cache in canon._caches.values())


def test_same_records_as_an_uncached_canonicaliser():
    """Every value through the cache equals the uncached parse, for repeated and odd values."""
    values = [None, "", " ", "n/a", "NULL", "Spain", " spain ", "Atlantis", "2019", "2019-13", "03/02/2021", "de",
              "German", "Klingon", 12, 3.5, True, ["UK", "uk", "n/a", "France"], "x" * 250]  # fmt: skip
    cached = extract.Canonicaliser("en")
    for _ in range(3):  # second and third rounds hit the cache
        for value in values:
            for name in extract.RECORD_FIELDS:
                plain = extract.Canonicaliser("en")
                plain._caches = {}  # no cache at all: every value parsed
                assert cached.record({name: value}) == plain.record({name: value}), (name, value)


def _reference_url(value: str) -> str:
    """parse_url as it was before its fast path."""
    text = value.strip()
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or "." not in parts.netloc or " " in parts.netloc:
        raise ValueError(f"not a web address: {value!r}")
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, parts.query, ""))


def _outcome(fn, value):
    try:
        return fn(value)
    except ValueError:
        return ValueError


URLISH = st.text(alphabet="htps:/wexamplorg.-AZ09_~%?#&=@ \t[]ä", max_size=40)


@given(st.one_of(URLISH, st.builds(lambda a, b: a + b, st.sampled_from(["http://", "https://", "HTTP://"]), URLISH)))
def test_parse_url_fast_path_matches_the_full_parse(value):
    assert _outcome(parse_url, value) == _outcome(_reference_url, value)


def test_parse_url_examples():
    for value in ("https://a.example.org/", "http://a.b", "https://x.org/p/a;b:c@d", "https://X.org/", "a.org/x?y#z",
                  "https://a.org?", "https://a.org//x", "ftp://a.org", "https://nodot/"):  # fmt: skip
        assert _outcome(parse_url, value) == _outcome(_reference_url, value), value


@given(st.text(alphabet=st.sampled_from("ab .,\t\n\u00a0\u2003\u2028\x1f\x85é"), max_size=30))
def test_collapse_whitespace_is_split_and_join(text):
    assert collapse_whitespace(text) == " ".join(text.split())

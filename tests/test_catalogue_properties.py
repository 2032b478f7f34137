"""Property-based: any export either maps row by row or fails with a MappingError naming the file,
never with an unhandled exception."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cstrack.errors import MappingError
from cstrack.ingest.catalogue import Mapping, RowMapper, open_reader

pytestmark = pytest.mark.fast  # no database, dbt build, browser or Airflow run

MAPPING = Path(__file__).resolve().parents[1] / "catalogues" / "awesome_cs_nl.yml"
HEADER = (b"name,description,main_category,extra_categories,organization,country,location,notes_location,"
          b"start_date,end_date,status,notes_duration,data_accessibility,accessibility_for_research,data_url,"
          b"project_information_url\n")  # fmt: skip

cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "n/a", "unknown", "2019", "2021-02-30", "ongoing", " ENDED ", "The Netherlands, Belgium",
                     "www.example.org", "http://", "-", "Atlantis", "0000", "9999-99-99"]),
)  # fmt: skip


def check(body: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.csv"
        path.write_bytes(body)
        mapping = Mapping.load(MAPPING)
        try:
            mapper = RowMapper(mapping)
            for _, row in open_reader(mapping, path).rows():
                record, pii = mapper.apply(row)
                assert isinstance(record, dict) and pii == {}
        except MappingError as err:
            assert str(path) in str(err)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, min_size=0, max_size=18), max_size=8))
def test_any_rows_map_or_fail_clearly(rows):
    import csv
    import io

    out = io.StringIO()
    csv.writer(out).writerows(rows)
    check(HEADER + out.getvalue().encode("utf-8", "surrogatepass"))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_map_or_fail_clearly(noise):
    check(HEADER + noise)


RULES_MAPPING = """\
source: rules
format: csv
fields:
  title: name
  status: {column: status, map: {ongoing: active, "Ended ": completed, unknown: null}}
  start_date: {column: start, parse: date}
  countries: {column: country, split: ",", parse: country}
  topics: {columns: [main, extra], split: ";"}
  keywords: {columns: [main, extra]}
  language: {column: lang, map: {nl: nl, dutch: nl, "-": en}}
"""
rules_cell = st.one_of(cell, st.sampled_from(["a;b;a", " ; ", "NL, n/a ,BE", "Dutch ", "Ended", "2019;2020"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.fixed_dictionaries({c: rules_cell for c in ("name", "status", "start", "country", "main", "extra", "lang")}),
        max_size=6,
    )
)
def test_compiled_rules_give_what_the_general_path_gives(rows):
    """Each rule is compiled (with a per-value cache); the result and the unmapped counts are those of the
    rule interpreted cell by cell (`_general`), also for a cell seen a second time."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rules.yml"
        path.write_text(RULES_MAPPING, encoding="utf-8")
        mapping = Mapping.load(path)
    compiled, general = RowMapper(mapping), RowMapper(mapping)
    for row in rows + rows:
        record, _ = compiled.apply(row)
        assert record == {rule.name: general._general(rule, row) for rule in mapping.fields}
    assert compiled.unmapped == general.unmapped

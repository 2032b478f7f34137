"""`cstrack export ppsr`: the published catalogue as PPSR Core project metadata (JSON), for FAIR re-use.

Read from `marts` as `cstrack_reporter`, like the report: what is exported is what is published, and
nothing personal (contact details never reach marts, so contactPoint and the responsible party's e-mail
are empty strings). The document is `{"Project": [...]}` as the PPSR Core JSON schema wants it; its
items allow no extra attribute, so provenance (source records, match rule) and our other fields
(countries, SDGs, topics) sit beside it in `provenance`, keyed by projectId, and what the export left
out in `export`. The written document is validated against `schemas/ppsr_core_project.schema.json`.

One bad project never fails the export: an optional value the schema refuses is left out of its project
(a warning), a project without a valid value for a required attribute is left out (with its reason).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from cstrack import config, specs, warehouse
from cstrack.errors import CstrackError

SCHEMA_PATH = specs.SCHEMAS_DIR / "ppsr_core_project.schema.json"

# our PPSR statuses (seed ppsr_status) -> the schema's projectStatus enum
STATUS = {
    "not_started": "Not yet started",
    "active": "Active",
    "periodically_active": "Periodically active",
    "on_hold": "On hold",
    "completed": "Completed",
    "abandoned": "Abandoned",
}
UNKNOWN = "Unknown"  # projectEndDate and projectDuration when the end is not known, as the official inventory
# why a project cannot be exported, by the required attribute the warehouse has no valid value for
REQUIRED_MISSING = {
    "projectStatus": "no PPSR status (the source gives none or one that ppsr_status_alias does not know)",
    "projectScienceType": "no topic with a PPSR science type (seed topic_ppsr_science_type)",
    "projectStartDate": "no start date",
}

_PROJECTS = """
    select p.project_key, p.title, p.aim, p.description, p.url, p.status, p.start_date, p.start_year,
           p.end_year, p.language, p.lead_organisation, p.latitude, p.longitude, p.loaded_at,
           coalesce((select array_agg(t.topic order by t.origin = 'source' desc, t.topic) from marts.bridge_project_topic t
                     where t.project_key = p.project_key), '{}') as topics,
           coalesce((select json_agg(json_build_object('sdg', s.sdg, 'relevance', s.relevance) order by s.sdg)
                     from marts.bridge_project_sdg s where s.project_key = p.project_key), '[]') as sdgs,
           coalesce((select array_agg(c.country_code order by c.country_code) from marts.bridge_project_country c
                     where c.project_key = p.project_key), '{}') as countries,
           (select json_agg(json_build_object('sourceSystem', b.source_system, 'sourceRecordId', b.source_record_id,
                                              'matchRule', b.match_rule) order by b.source_system, b.source_record_id)
            from marts.bridge_project_source b where b.project_key = p.project_key) as sources
    from marts.dim_project p
    order by p.project_key
"""  # noqa: E501 -- the SQL text stays as it is (rewrapping would change the string)


@lru_cache(maxsize=1)
def science_types() -> dict[str, str]:
    """EU-Citizen.Science topic -> PPSR projectScienceType, from the dbt seed (one vocabulary for both)."""
    path = config.seed_path("topic_ppsr_science_type")
    with path.open(encoding="utf-8") as handle:
        return {row["topic"]: row["ppsr_science_type"] for row in csv.DictReader(handle)}


# --- formats -------------------------------------------------------------------------------------------
# jsonschema checks date-time and uri only with optional packages (rfc3339-validator, rfc3987) that are
# not installed, and Draft 7 has no duration format at all: without these checks any string would pass.
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
# RFC 3986 URI: a scheme, then only URI characters, % only as an escape
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
_DURATION = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+([.,]\d+)?S)?)?")


def _is_date_time(value) -> bool:
    """RFC 3339 date-time (date, time and offset), with a real calendar date."""
    if not isinstance(value, str):
        return True
    match = _DATE_TIME.fullmatch(value)
    if not match:
        return False
    date.fromisoformat(value[:10])  # ValueError on 2021-02-30
    hour, minute, second = (int(g) for g in match.groups()[:3])
    return hour < 24 and minute < 60 and second <= 60


def _is_uri(value) -> bool:
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


def _is_duration(value) -> bool:
    return not isinstance(value, str) or _DURATION.fullmatch(value) is not None


def format_checker():
    """Draft 7's format checker with date-time, uri and duration really checked (see above)."""
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checkers.update(jsonschema.Draft7Validator.FORMAT_CHECKER.checkers)
    checker.checks("date-time", raises=ValueError)(_is_date_time)
    checker.checks("uri")(_is_uri)
    checker.checks("duration")(_is_duration)
    return checker


def validator(schema: dict | None = None):
    """A Draft 7 validator of the bundled PPSR Core schema (or `schema`) that checks formats."""
    import jsonschema

    return jsonschema.Draft7Validator(schema or json.loads(SCHEMA_PATH.read_text()), format_checker=format_checker())


# --- values ----------------------------------------------------------------------------------------------
def absolute_url(value: str) -> str | None:
    """An absolute http(s) URL (a mapping without `parse: url` may leave `www.example.org`), characters
    outside RFC 3986 percent-encoded; None when it is no web address."""
    from cstrack.ingest.parsing import parse_url

    try:
        url = parse_url(value)
    except ValueError:
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


def _year_end(year: int) -> str:
    # a year alone is written as the official inventory writes it: the last second of that year
    return f"{year:04d}-12-31T23:59:59+00:00"


def ppsr_project(row: dict) -> tuple[dict, list[str]]:
    """One dim_project row as a PPSR Core project, and warnings for optional values left out. A required
    attribute that the warehouse has no valid value for is None (the caller leaves the project out)."""
    warnings = []
    if row["start_date"]:
        start = f"{row['start_date'].isoformat()}T00:00:00+00:00"
    else:
        start = _year_end(row["start_year"]) if row["start_year"] else None
    end, duration = UNKNOWN, UNKNOWN
    if row["end_year"] and row["start_year"]:
        if row["end_year"] >= row["start_year"]:
            # a difference in years, the unit both dates are known in (as the inventory: P5Y from 1989 to 1994)
            end, duration = _year_end(row["end_year"]), f"P{row['end_year'] - row['start_year']}Y"
        else:
            warnings.append(
                f"projectEndDate: end year {row['end_year']} is before"
                f" start year {row['start_year']}, written as Unknown"
            )
    science_type = next((science_types()[t] for t in row["topics"] if t in science_types()), None)
    loaded = row["loaded_at"].isoformat() if row["loaded_at"] else None
    location = {}
    if row["latitude"] is not None and row["longitude"] is not None:
        location = {"projectPinLatitude": float(row["latitude"]), "projectPinLongitude": float(row["longitude"])}
    project = {
        "projectId": row["project_key"],
        "projectName": row["title"],
        "projectAim": row["aim"] or "",
        "projectDescription": row["description"] or "",
        "projectStatus": STATUS.get(row["status"]),
        "projectStartDate": start,
        "projectEndDate": end,
        "projectDuration": duration,
        "projectDateCreated": loaded,
        "projectLastUpdatedDate": loaded,
        "projectScienceType": science_type,
        "language": row["language"] or "",
        "projectResponsiblePartyName": row["lead_organisation"] or "",
        "projectResponsiblePartyContactEmail": "",  # contact details never leave raw
        "contactPoint": "",
        "projectGeographicLocation": location,
        "projectMedia": "",
    }
    if row["url"]:
        url = absolute_url(row["url"])
        if url:
            project["projectUrl"] = url
        else:
            warnings.append(f"projectUrl: {row['url'][:100]!r} is no web address, left out")
    return project, warnings


def _check(project: dict, items, required: set[str]) -> tuple[str | None, list[str]]:
    """Validate one project: an optional attribute the schema refuses is removed (a warning); returns the
    reason the project cannot be exported (a required attribute invalid), or None, and the warnings."""
    warnings = []
    while True:  # each round removes one attribute, so it ends
        error = next(iter(items.iter_errors(project)), None)
        if error is None:
            return None, warnings
        name = error.path[0] if error.path else None
        if name is None or name in required or name not in project:
            return f"{name or 'project'}: {error.message[:200]}", warnings
        del project[name]
        warnings.append(f"{name}: {error.message[:200]}, left out")


def export_ppsr(wh: warehouse.Warehouse | None = None, out: Path | None = None) -> tuple[Path, int]:
    """Write the published projects as a PPSR Core document; print what was left out and the warnings;
    returns (path, number of projects exported)."""
    from psycopg.rows import dict_row

    wh = wh or warehouse.current()
    out = out or config.home() / "export" / "ppsr_projects.json"
    with warehouse.connect(wh) as conn:
        warehouse.as_reporter(conn)
        if conn.execute("select to_regclass('marts.dim_project') is null").fetchone()[0]:
            raise CstrackError("no published marts yet: run `cstrack build` (or `cstrack refresh`) first")
        published_at = conn.execute("select max(published_at) from marts.refresh_info").fetchone()[0]
        rows = conn.cursor(row_factory=dict_row).execute(_PROJECTS).fetchall()
    schema = json.loads(SCHEMA_PATH.read_text())
    item_schema = schema["properties"]["Project"]["items"]
    items, required = validator(item_schema), set(item_schema["required"])
    projects, provenance, left_out, warnings = [], {}, [], []
    for row in rows:
        project, project_warnings = ppsr_project(row)
        missing = [name for name, value in project.items() if value is None]
        reason = REQUIRED_MISSING.get(missing[0], f"no valid {missing[0]}") if missing else None
        if reason is None:
            reason, more = _check(project, items, required)
            project_warnings += more
        if reason is not None:
            left_out.append({"projectId": row["project_key"], "projectName": row["title"], "reason": reason})
            continue
        projects.append(project)
        warnings += [{"projectId": row["project_key"], "warning": w} for w in project_warnings]
        provenance[row["project_key"]] = {
            "sources": row["sources"],
            "countries": list(row["countries"]),
            "sdgs": row["sdgs"],
            "topics": list(row["topics"]),
        }
    published = published_at.isoformat() if published_at else datetime.now(UTC).isoformat()
    document = {
        "Project": projects,
        "provenance": provenance,
        "export": {
            "standard": "PPSR Core project metadata, JSON schema (Draft 7); see schemas/ppsr_core_project.schema.json",
            "generatedAt": datetime.now(UTC).isoformat(),
            "publishedAt": published,
            "leftOut": left_out,
            "warnings": warnings,
        },
    }
    errors = [e.message for e in validator(schema).iter_errors(document)]
    if errors:  # every project was checked above: this is a bug, not data
        raise CstrackError(f"PPSR export: the document does not validate: {errors[0][:300]}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    print(summary(len(projects), left_out, warnings), flush=True)
    return out, len(projects)


def summary(exported: int, left_out: list[dict], warnings: list[dict]) -> str:
    """`exported N, left out M (reasons), K warnings (attributes)`: one line for the command's output."""
    reasons = Counter(entry["reason"] for entry in left_out)
    attributes = Counter(entry["warning"].split(":", 1)[0] for entry in warnings)
    line = f"PPSR export: exported {exported} projects, left out {len(left_out)}"
    if reasons:
        line += " (" + "; ".join(f"{n}: {reason}" for reason, n in reasons.most_common()) + ")"
    line += f", {len(warnings)} warnings"
    if attributes:
        line += " (" + ", ".join(f"{name} {n}" for name, n in attributes.most_common()) + ")"
    return line

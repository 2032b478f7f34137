"""`cstrack export ppsr`: the published catalogue as PPSR Core project metadata (JSON), for FAIR re-use.

Read from `marts` as `cstrack_reporter`, like the report: what is exported is what is published, and
nothing personal (contact details never reach marts). Each project carries its provenance: the
source records it was resolved from and how. Every project is validated against the PPSR Core
core-attribute schema in `schemas/` before the file is written.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from cstrack import config, warehouse
from cstrack.errors import CstrackError

SCHEMA_PATH = Path(__file__).parent / "schemas" / "ppsr_core_project.schema.json"

_PROJECTS = """
    select p.project_key, p.title, p.aim, p.description, p.url, p.status, p.start_date, p.start_year,
           p.end_year, p.language, p.lead_organisation, p.latitude, p.longitude, p.loaded_at,
           coalesce((select array_agg(t.topic order by t.topic) from marts.bridge_project_topic t
                     where t.project_key = p.project_key), '{}') as topics,
           coalesce((select array_agg('SDG ' || s.sdg || ' (' || s.relevance || ')' order by s.sdg)
                     from marts.bridge_project_sdg s where s.project_key = p.project_key), '{}') as sdgs,
           coalesce((select array_agg(c.country_code order by c.country_code) from marts.bridge_project_country c
                     where c.project_key = p.project_key), '{}') as countries,
           (select json_agg(json_build_object('sourceSystem', b.source_system, 'sourceRecordId', b.source_record_id,
                                              'matchRule', b.match_rule) order by b.source_system, b.source_record_id)
            from marts.bridge_project_source b where b.project_key = p.project_key) as sources
    from marts.dim_project p
    order by p.project_key
"""


def ppsr_project(row: dict, published_at: str) -> dict:
    """One dim_project row (with its bridges) as a PPSR Core project."""
    start = row["start_date"].isoformat() if row["start_date"] else (str(row["start_year"]) if row["start_year"] else None)
    duration = (
        f"P{row['end_year'] - row['start_year']}Y"
        if row["start_year"] and row["end_year"] and row["end_year"] >= row["start_year"]
        else None
    )
    loaded = row["loaded_at"].isoformat()
    return {
        "projectId": row["project_key"],
        "projectDateCreated": loaded,
        "projectLastUpdatedDate": loaded,
        "projectName": row["title"],
        "projectAim": row["aim"],
        "projectDescription": row["description"],
        "projectStatus": row["status"],
        "projectStartDate": start,
        "projectEndDate": str(row["end_year"]) if row["end_year"] else None,
        "projectDuration": duration,
        "projectScienceType": list(row["topics"]),
        "projectUrl": row["url"],
        "language": row["language"],
        "projectResponsiblePartyName": row["lead_organisation"],
        "projectResponsiblePartyContactEmail": None,  # contact details never leave raw
        "contactPoint": [],
        "hasTag": list(row["sdgs"]),
        "projectGeographicLocation": [
            {
                "projectPinLatitude": float(row["latitude"]) if row["latitude"] is not None else None,
                "projectPinLongitude": float(row["longitude"]) if row["longitude"] is not None else None,
                "countryCodes": list(row["countries"]),
            }
        ],
        "provenance": {"sources": row["sources"], "publishedAt": published_at},
    }


def export_ppsr(wh: warehouse.Warehouse | None = None, out: Path | None = None) -> tuple[Path, int]:
    """Write the published projects as PPSR Core JSON; returns (path, number of projects)."""
    import jsonschema
    from psycopg.rows import dict_row

    wh = wh or warehouse.current()
    out = out or config.home() / "export" / "ppsr_projects.json"
    with warehouse.connect(wh) as conn:
        conn.execute("set role cstrack_reporter")
        if conn.execute("select to_regclass('marts.dim_project') is null").fetchone()[0]:
            raise CstrackError("no published marts yet: run `cstrack build` (or `cstrack refresh`) first")
        published_at = conn.execute("select max(published_at) from marts.refresh_info").fetchone()[0]
        rows = conn.cursor(row_factory=dict_row).execute(_PROJECTS).fetchall()
    published = published_at.isoformat() if published_at else datetime.now(timezone.utc).isoformat()
    projects = [ppsr_project(row, published) for row in rows]
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    for project in projects:
        error = next(iter(validator.iter_errors(project)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(project)"
            raise CstrackError(f"PPSR export: project {project['projectId']}: {where}: {error.message}")
    document = {
        "standard": "PPSR Core Project Metadata Model 2020.0",
        "generatedAt": datetime.now(timezone.utc).isoformat(),
        "publishedAt": published,
        "projects": projects,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return out, len(projects)

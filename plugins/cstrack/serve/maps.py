"""Choropleth maps of countries for the static report, drawn by Vega-Lite from bundled geometry.

The geometry is world-atlas's countries-50m.json (Natural Earth 1:50m admin-0 countries as TopoJSON,
keyed by ISO 3166-1 numeric code), installed from the npm registry by `make install` (package.json,
package-lock.json) and written into the report as assets/countries-50m.js, a script that sets
`window.CSTRACK_COUNTRIES`, so the map works from file:// where a fetch of a JSON file would not.
The seed `country` joins a card's ISO alpha-2 codes to the numeric ids and says which continent each
country is on: the map frames Europe when a country with data is there (CS Track's scope) and names
the countries with data outside the frame, else it shows the world.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cstrack import config
from cstrack.errors import CstrackError

SCRIPT = "assets/countries-50m.js"
LICENCE = "assets/world-atlas-LICENSE.txt"
NO_DATA = "#e3e6ea"  # countries without a value
# the European frame: lon/lat points it must hold (Iceland, Portugal, Crete, Cyprus, the Volga, North Cape)
EUROPE = [[-24.5, 63.5], [-9.5, 36.5], [24.0, 34.8], [34.5, 34.6], [45.0, 55.0], [26.0, 71.2]]
# countries the seed puts in Asia that the European frame draws (wholly or for the most part)
IN_EUROPEAN_FRAME = frozenset({"CY", "TR", "GE", "AM", "AZ"})
EUROPE_PROJECTION = {"type": "azimuthalEqualArea", "rotate": [-10, -52, 0]}  # as ETRS89-LAEA (EPSG:3035)


def package_dir() -> Path:
    return config.project_dir() / "node_modules" / "world-atlas"


def geometry_path() -> Path:
    path = package_dir() / "countries-50m.json"
    if not path.exists():
        raise CstrackError(f"{path}: the report's map geometry is not installed: run `make install` (npm ci)")
    return path


@cache
def _geometry_ids(path: Path) -> frozenset[str]:
    topology = json.loads(path.read_text(encoding="utf-8"))
    return frozenset(g["id"] for g in topology["objects"]["countries"]["geometries"] if "id" in g)


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    name: str
    numeric: str  # ISO 3166-1 numeric, the geometry's id ('' when the country has none, e.g. XK)
    continent: str


@cache
def countries() -> dict[str, Country]:
    with config.seed_path("country").open(encoding="utf-8", newline="") as handle:
        return {
            row["country_code"]: Country(row["country_code"], row["country_name"], row["iso_numeric"], row["continent"])
            for row in csv.DictReader(handle)
        }


@dataclass
class MapData:
    rows: list[dict]  # the card's rows that have geometry, with its id (`map_id`) and `map_label`
    europe: bool  # frame Europe (else the world)
    outside: list[str]  # countries with data that are not drawn in the frame, e.g. "US (409 projects)"


def map_data(rows: list[dict], country_column: str, value_column: str, describe) -> MapData:
    """Join the rows to the geometry; `describe(row)` says a row's value with its unit, for notes."""
    ids, known = _geometry_ids(geometry_path()), countries()
    drawn, outside, no_geometry = [], [], []
    for row in rows:
        country = known.get(str(row.get(country_column) or "").upper())
        if country is None or country.numeric not in ids:
            no_geometry.append(row)
        else:
            label = f"{country.name} ({country.code}): {describe(row)}"
            drawn.append(row | {"map_id": country.numeric, "map_label": label, "_continent": country.continent})
    europe = any(row["_continent"] == "Europe" for row in drawn)
    for row in drawn:
        if europe and row["_continent"] != "Europe" and row[country_column] not in IN_EUROPEAN_FRAME:
            outside.append(f"{row[country_column]} ({describe(row)})")
    outside += [
        f"{row[country_column]} ({describe(row)}, no map shape)" for row in no_geometry if row.get(country_column)
    ]
    return MapData([{k: v for k, v in row.items() if k != "_continent"} for row in drawn], europe, outside)


def vega_lite(data: MapData, value_column: str, value_title: str, tooltip: list[dict], size: tuple[int, int]) -> dict:
    """A choropleth: every country of the geometry, coloured by the value where a row gives one.

    The geometry is not in the spec: the page puts window.CSTRACK_COUNTRIES into the `countries` data.
    Each drawn country's path carries an aria-label (`Country: value`), for screen readers and tests.
    The size is fixed (width, height in px): a projection fitted to a container's width fits it before
    the page has laid the container out, and draws a thumbnail.
    """
    projection = EUROPE_PROJECTION | {"fit": _points(EUROPE)} if data.europe else {"type": "equalEarth"}
    fields = sorted({key for row in data.rows for key in row} - {"map_id"})
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",  # an identifier only: nothing is fetched
        "width": size[0],
        "height": size[1],
        "data": {"name": "countries", "format": {"type": "topojson", "feature": "countries"}},
        "transform": [
            {"filter": "datum.id !== '010'"},  # Antarctica: no citizen-science country, much ink
            {"lookup": "id", "from": {"data": {"values": data.rows}, "key": "map_id", "fields": fields}},
            {
                "calculate": "isValid(datum.map_label) ? datum.map_label : datum.properties.name + ': no data'",
                "as": "map_label",
            },
        ],  # fmt: skip
        "projection": projection,
        # invalid: null keeps the countries without a value (drawn in NO_DATA) that Vega-Lite would drop
        "mark": {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.5, "clip": True, "invalid": None},
        "encoding": {
            "color": {
                "condition": {"test": f"!isValid(datum[{json.dumps(value_column)}])", "value": NO_DATA},
                "field": value_column,
                "type": "quantitative",
                "title": value_title,
                "scale": {"scheme": "blues"},
            },
            "tooltip": [{"field": "properties.name", "title": "Country"}, *tooltip],
            "description": {"field": "map_label"},
        },
        "config": {"view": {"stroke": None}},
    }


def _points(points: list[list[float]]) -> dict:
    return {"type": "Feature", "properties": {}, "geometry": {"type": "MultiPoint", "coordinates": points}}


def write_assets(out_dir: Path) -> None:
    """The geometry as a script (works from file://) and its licence."""
    path = geometry_path()
    script = out_dir / SCRIPT
    script.parent.mkdir(parents=True, exist_ok=True)
    header = "/* world-atlas countries-50m.json (ISC, Mike Bostock; Natural Earth, public domain) */\n"
    script.write_text(f"{header}window.CSTRACK_COUNTRIES = {path.read_text(encoding='utf-8')};\n", encoding="utf-8")
    licence = (package_dir() / "LICENSE").read_text(encoding="utf-8")
    (out_dir / LICENCE).write_text(
        "The report's maps draw countries-50m.json of the npm package world-atlas 2.0.2\n"
        "(https://github.com/topojson/world-atlas), made with Natural Earth (public domain,\n"
        "https://www.naturalearthdata.com), under this licence:\n\n" + licence,
        encoding="utf-8",
    )

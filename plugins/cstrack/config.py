"""Configuration from environment variables, with safe defaults (docs/design-notes.md §4).

Read at call time, never at import time, so tests and Airflow tasks can switch them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# plugins/cstrack/config.py -> the project root holds dbt/, catalogues/, expectations/ ...
PROJECT_DIR = Path(__file__).resolve().parents[2]


def project_dir() -> Path:
    return Path(os.environ.get("CSTRACK_PROJECT_DIR", PROJECT_DIR)).resolve()


def home() -> Path:
    """Where the embedded warehouse, Airflow's metadata, logs and the report live."""
    path = Path(os.environ.get("CSTRACK_HOME", ".warehouse")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def inbox() -> Path:
    """Folder with `catalogues/`, `surveys/`, `social/` files to load; defaults to the bundled sample data."""
    return Path(os.environ.get("CSTRACK_INBOX", project_dir() / "data" / "sample")).resolve()


def crawl_mode() -> str:
    """What the refresh crawls: `demo` (generated sites served on 127.0.0.1, the default), `platforms`
    (catalogues/platforms.yml, production) or `off`."""
    mode = os.environ.get("CSTRACK_CRAWL", "demo")
    if mode not in ("demo", "platforms", "off"):
        from cstrack.errors import CstrackError

        raise CstrackError(f"CSTRACK_CRAWL={mode!r}: use demo, platforms or off")
    return mode


def report_dir() -> Path:
    return home() / "report"


def pseudonym_key() -> bytes:
    """HMAC key for pseudonyms: from CSTRACK_PSEUDONYM_KEY, else generated once into $CSTRACK_HOME (0600)."""
    if os.environ.get("CSTRACK_PSEUDONYM_KEY"):
        return os.environ["CSTRACK_PSEUDONYM_KEY"].encode()
    key_file = home() / "pseudonym.key"
    if not key_file.exists():
        # written aside, then linked into place: tasks starting at once never read a half-written key,
        # and the first one to link wins (os.link fails if the file exists)
        draft = key_file.with_name(f".pseudonym.key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, key_file)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return key_file.read_text().strip().encode()


def seed_path(name: str) -> Path:
    """A dbt seed (dbt/seeds/<name>.csv): the one home of each controlled vocabulary, read by dbt and Python."""
    return project_dir() / "dbt" / "seeds" / f"{name}.csv"

"""Pseudonyms: a keyed hash (HMAC-SHA256) of personal identifiers, so nothing personal leaves `raw`.

The key comes from CSTRACK_PSEUDONYM_KEY (or the key generated once into $CSTRACK_HOME): the same
person gets the same pseudonym across loads, and nobody without the key can reverse or recompute it.
"""

from __future__ import annotations

import hashlib
import hmac

from cstrack import config


def pseudonymise(value: str, namespace: str, key: bytes | None = None) -> str:
    """A stable 32-hex-digit pseudonym of `value` within `namespace` (e.g. 'survey:participants_2021')."""
    key = key if key is not None else config.pseudonym_key()
    message = f"{namespace}\x1f{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]

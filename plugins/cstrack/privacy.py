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
    return pseudonymiser(key if key is not None else config.pseudonym_key())(value, namespace)


def pseudonymiser(key: bytes):
    """pseudonymise with one key, for many values: the key's HMAC state is prepared once, not per value."""
    keyed = hmac.new(key, digestmod=hashlib.sha256)

    def pseudonym(value: str, namespace: str) -> str:
        digest = keyed.copy()
        digest.update(f"{namespace}\x1f{value}".encode())
        return digest.hexdigest()[:32]

    return pseudonym

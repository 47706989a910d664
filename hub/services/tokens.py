"""Bearer tokens: random, shown once, stored as sha256, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32
SITE_PREFIX = "mhs_"
OPERATOR_PREFIX = "mho_"


def new_token(prefix: str) -> str:
    """A fresh token; the prefix only tells humans what kind it is."""
    return prefix + secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)

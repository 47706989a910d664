"""The hub's Ed25519 release key: created on first start, signs canonical manifest bytes."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hub.errors import HubError
from protocols.hub_api import SigningKeyInfo, canonical_json


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public_raw).hexdigest()[:16]

    def info(self) -> SigningKeyInfo:
        return SigningKeyInfo(public_key=base64.b64encode(self.public_raw).decode(), key_id=self.key_id)

    def sign(self, obj: object) -> str:
        return base64.b64encode(self.private_key.sign(canonical_json(obj))).decode()


def load_or_create_signer(path: Path) -> Signer:
    """Load the PEM key at ``path`` or create it with mode 600 if it does not exist yet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load(path)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return Signer(key)


def _load(path: Path) -> Signer:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as err:
        raise HubError(f"signing key {path} is not a PEM private key: {err}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise HubError(f"signing key {path} is not an Ed25519 key")
    return Signer(key)


def verify(public_key_b64: str, obj: object, signature_b64: str) -> bool:
    """True when ``signature_b64`` signs ``canonical_json(obj)`` under the given public key."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        key.verify(base64.b64decode(signature_b64), canonical_json(obj))
    except (InvalidSignature, ValueError):
        return False
    return True

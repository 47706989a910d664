"""Trust in what the hub serves: the pinned Ed25519 key, signed manifests, protocol compatibility."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from protocols.hub_api import SignedManifest, SigningKeyInfo, canonical_json
from protocols.version import PROTOCOL_VERSION


class TrustError(ValueError):
    """A manifest or key the site must not trust; nothing was written or loaded."""


def protocol_compatible(theirs: str, ours: str = PROTOCOL_VERSION) -> bool:
    """Same major version."""
    return theirs.split(".")[0] == ours.split(".")[0]


def key_id(public_key_b64: str) -> str:
    """First 16 hex digits of sha256(raw public key), as the hub computes it."""
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:16]


def check_key(info: SigningKeyInfo) -> SigningKeyInfo:
    """A well-formed Ed25519 key whose key_id matches its bytes."""
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(info.public_key, validate=True))
    except (ValueError, TypeError):
        raise TrustError("the hub's signing key is not a valid Ed25519 public key") from None
    if key_id(info.public_key) != info.key_id:
        raise TrustError(f"the hub's key_id {info.key_id} does not match its public key")
    return info


def verify_manifest(raw: dict[str, Any], pinned: SigningKeyInfo, *, version: str) -> SignedManifest:
    """Check the signature over the manifest exactly as served, with the PINNED key; then parse it."""
    manifest, signature = raw.get("manifest"), raw.get("signature")
    if not isinstance(manifest, dict) or not isinstance(signature, str):
        raise TrustError(f"the hub's manifest of version {version} has no manifest or signature field")
    if raw.get("key_id") != pinned.key_id:
        raise TrustError(f"the manifest of version {version} is signed with key {raw.get('key_id')}, not the pinned "
                         f"key {pinned.key_id}; refusing it "
                         f"(if the hub rotated its key, run `site-agent init --force`)")
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(pinned.public_key))
        key.verify(base64.b64decode(signature), canonical_json(manifest))
    except (InvalidSignature, ValueError):
        raise TrustError(f"the signature of model version {version}'s manifest does not verify with the pinned hub "
                         "key; the manifest was altered or substituted, so nothing was downloaded") from None
    try:
        signed = SignedManifest.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise TrustError(f"the signed manifest of version {version} is invalid at "
                         f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    if signed.manifest.version != version:
        raise TrustError(f"the hub served the manifest of version {signed.manifest.version} for version {version}")
    if not protocol_compatible(signed.manifest.protocol_version):
        raise TrustError(f"model version {version} uses protocol {signed.manifest.protocol_version}, this site agent "
                         f"speaks {PROTOCOL_VERSION}; upgrade the site agent")
    return signed

"""SuperNode authentication keys: EC P-384 pairs in OpenSSH form, as ``flower-supernode`` reads them."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm


def make_node_key(path: Path) -> str:
    """Write a new private key to ``path`` (mode 0600) and its public key to ``path.pub``; return the public line."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private)
    os.replace(tmp, path)
    pub_tmp = path.with_name(path.name + ".pub.tmp")
    pub_tmp.write_bytes(public + b"\n")
    os.replace(pub_tmp, public_key_path(path))
    return public.decode()


def public_key_path(private_key: Path) -> Path:
    """Where ``make_node_key`` puts the public half: next to the private key, with ``.pub`` appended."""
    return private_key.with_name(private_key.name + ".pub")


def parse_public_key(line: str) -> str:
    """Check that ``line`` is an OpenSSH elliptic-curve public key; return its ``type base64`` part."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    text = " ".join(line.strip().split()[:2])
    try:
        key = serialization.load_ssh_public_key(text.encode("ascii", errors="replace"))
    except (ValueError, TypeError, UnsupportedAlgorithm) as err:
        raise ValueError(f"not a valid OpenSSH public key ({err})") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("SuperNode keys must be elliptic-curve (ecdsa-sha2-nistp384)")
    return text


def read_public_key(path: Path) -> str:
    """The public key line of an OpenSSH EC public key file; ``ValueError`` naming the file if it is not one."""
    try:
        return parse_public_key(path.read_text(encoding="ascii", errors="replace"))
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def fingerprint(public_key: str) -> str:
    """OpenSSH's ``SHA256:...`` fingerprint of a public key line (what ``ssh-keygen -l`` prints)."""
    blob = base64.b64decode(parse_public_key(public_key).split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")

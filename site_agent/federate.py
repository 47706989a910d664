"""``site-agent federate``'s work: this site's SuperNode key, its registration with the hub, the SuperNode command.

The ClientApp itself lives in the ``federation`` package (``federation.client_app:app``); this
module only prepares and launches the Flower SuperNode that runs it. Nothing here imports torch.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from federation.keys import make_node_key, public_key_path, read_public_key
from federation.supernode import supernode_args
from protocols.federation import NodeKeyInfo, NodeKeyRegistration
from protocols.hub_api import API_PREFIX
from site_agent.hub_client import HubUnavailable, raise_for_problem

NODE_KEYS_PATH = f"{API_PREFIX}/federation/node-keys"


def ensure_key(key: Path) -> str:
    """Make ``key`` (and ``key.pub``) unless the pair exists; return the public key line."""
    if key.is_file() and public_key_path(key).is_file():
        return read_public_key(public_key_path(key))
    if key.exists():
        raise FileExistsError(f"{key} exists but {public_key_path(key)} does not; move it away or give another --key")
    return make_node_key(key)


def register_key(hub_url: str, token: str, key: Path, *, http: httpx.Client | None = None) -> NodeKeyInfo:
    """Send this site's SuperNode public key (made if missing) to the hub, which binds it to the site's center."""
    body = NodeKeyRegistration(public_key=ensure_key(key))
    own = http is None
    http = http or httpx.Client(base_url=hub_url, timeout=30.0)
    try:
        response = http.post(NODE_KEYS_PATH, content=body.model_dump_json(),
                             headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    except httpx.TransportError as exc:
        raise HubUnavailable(f"cannot reach the hub at {hub_url} ({type(exc).__name__}); the key was "
                             "not registered, run the command again when the hub is up") from None
    finally:
        if own:
            http.close()
    raise_for_problem(response, hub_url)
    return NodeKeyInfo.model_validate_json(response.content)


def supernode_command(*, superlink: str, center: str, model: Path, data: Path, key: Path | None,
                      root_certificates: Path | None, shots: int, runtime_port: int | None = None) -> list[str]:
    """Check the local inputs, then build the ``flower-supernode`` command line for this site."""
    for label, path in (("--model", model / "manifest.json"), ("--data", data / "dataset.json")):
        if not path.is_file():
            raise FileNotFoundError(f"{label}: {path} does not exist")
    if key is not None and not key.is_file():
        raise FileNotFoundError(f"--key {key} does not exist; make it with --register-key")
    if root_certificates is not None and not root_certificates.is_file():
        raise FileNotFoundError(f"--root-certificates {root_certificates} does not exist")
    return supernode_args(superlink=superlink, center=center, model=model, data=data, key=key,
                          root_certificates=root_certificates, shots=shots, runtime_port=runtime_port)

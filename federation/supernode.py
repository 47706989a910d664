"""The ``flower-supernode`` command line a site runs to join the hub's SuperLink with its own key and data."""

from __future__ import annotations

from pathlib import Path


def supernode_args(*, superlink: str, center: str, model: Path, data: Path, key: Path | None,
                   root_certificates: Path | None, shots: int = 3, runtime_port: int | None = None) -> list[str]:
    """The command: node config naming this site, TLS with the hub's CA (else insecure), key-based auth."""
    node_config = f'center="{center}" model-dir="{model.resolve()}" data-dir="{data.resolve()}" shots={shots}'
    args = ["flower-supernode", "--superlink", superlink, "--node-config", node_config]
    args += ["--root-certificates", str(root_certificates)] if root_certificates else ["--insecure"]
    args += ["--auth-supernode-private-key", str(key)] if key else []
    return args + (["--port", str(runtime_port)] if runtime_port else [])

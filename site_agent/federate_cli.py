"""``site-agent federate``: run this site's Flower ClientApp (site_agent/federate.py) under a SuperNode.

Kept apart from the ClientApp so that the CLI starts without importing torch or flwr.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Annotated

import typer


def make_site_key(path: Path) -> str:
    """Write an EC P-384 private key (OpenSSH PEM, as SuperNodes read it); return its public key line."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP384R1())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    path.with_suffix(".pub").write_bytes(public + b"\n")
    return public.decode()


def supernode_args(*, superlink: str, center: str, model: Path, data: Path, key: Path | None,
                   root_certificates: Path | None, shots: int = 3) -> list[str]:
    """The ``flower-supernode`` command line for this site."""
    node_config = f'center="{center}" model-dir="{model.resolve()}" data-dir="{data.resolve()}" shots={shots}'
    args = ["flower-supernode", "--superlink", superlink, "--node-config", node_config]
    args += ["--root-certificates", str(root_certificates)] if root_certificates else ["--insecure"]
    return args + (["--auth-supernode-private-key", str(key)] if key else [])


def federate_command(
    center: Annotated[str, typer.Option("--center", help="This site's center code, as enrolled on the hub.")],
    model: Annotated[Path, typer.Option("--model", help="Local copy of the hub version being federated.")],
    data: Annotated[Path, typer.Option("--data", help="Dataset folder with a dataset.json.")],
    superlink: Annotated[str, typer.Option("--superlink", help="The hub's SuperLink Fleet API, host:port.")],
    key: Annotated[Path | None, typer.Option("--key", help="SuperNode private key (see --new-key).")] = None,
    new_key: Annotated[bool, typer.Option("--new-key", help="Create --key and print the public key for the "
                                                            "hub operator to register, then exit.")] = False,
    root_certificates: Annotated[Path | None, typer.Option("--root-certificates", help="CA of the SuperLink's "
                                                           "TLS certificate; without it the link is insecure.")] = None,
    shots: Annotated[int, typer.Option("--shots", min=1, help="Local training cases per round.")] = 3,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the SuperNode command, do not run it.")] = False,
) -> None:
    """Join the hub's federated rounds: run this site's ClientApp under a Flower SuperNode."""
    if new_key:
        if key is None:
            raise typer.BadParameter("--new-key needs --key PATH")
        typer.echo(make_site_key(key))
        return
    args = supernode_args(superlink=superlink, center=center, model=model, data=data, key=key,
                          root_certificates=root_certificates, shots=shots)
    if dry_run:
        typer.echo(shlex.join(args))
        return
    raise typer.Exit(subprocess.call(args))

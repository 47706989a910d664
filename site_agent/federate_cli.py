"""``site-agent federate``: register this site's SuperNode key with the hub, or run the site's Flower SuperNode.

Kept apart from the work (site_agent/federate.py) so that the CLI starts without importing torch or flwr.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path
from typing import Annotated

import typer

from site_agent.console import console, emit_json, expected_errors
from site_agent.options import JsonOpt


def federate_command(
    key: Annotated[Path, typer.Option("--key", help="This site's SuperNode private key; its public half is "
                                                    "KEY.pub. --register-key makes the pair if it does not exist.")]
    = Path("supernode.key"),
    register_key: Annotated[bool, typer.Option("--register-key", help="Register the public key with the hub "
                                                                      "(from `site-agent init`), which binds it to "
                                                                      "this site's center, then exit.")] = False,
    model: Annotated[Path | None, typer.Option("--model", help="Local copy of the hub version being federated.")]
    = None,
    data: Annotated[Path | None, typer.Option("--data", help="Dataset folder with a dataset.json.")] = None,
    superlink: Annotated[str | None, typer.Option("--superlink", help="The hub's SuperLink address, host:port.")]
    = None,
    center: Annotated[str | None, typer.Option("--center", help="This site's center code (default: the one "
                                                                "`site-agent init` stored).")] = None,
    root_certificates: Annotated[Path | None, typer.Option("--root-certificates", help="CA of the SuperLink's "
                                                           "TLS certificate; without it the link is insecure.")]
    = None,
    shots: Annotated[int, typer.Option("--shots", min=1, help="Local training cases per round.")] = 3,
    port: Annotated[int | None, typer.Option("--port", min=1, max=65535, help="Local port of the SuperNode's "
                                                                              "runtime API (default Flower's).")]
    = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the SuperNode command, do not run it.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Join the hub's federated rounds: register this site's SuperNode key once, then run the SuperNode.

    The SuperNode authenticates to the SuperLink with --key; the hub accepts a reply only when that
    node's key is registered to the center the reply speaks for. Only experts tensors ever leave.
    """
    from site_agent.config import load_config, site_token
    from site_agent.federate import register_key as register
    from site_agent.federate import supernode_command

    with expected_errors():
        if register_key:
            config = load_config()
            info = register(config.hub_url, site_token(config), key)
            if json_out:
                emit_json(info.model_dump(mode="json"))
            else:
                console.print(f"key {info.fingerprint} registered for center {info.center}", highlight=False)
            return
        if model is None or data is None or superlink is None:
            raise ValueError("running the SuperNode needs --model, --data and --superlink")
        args = supernode_command(superlink=superlink, center=center or load_config().center, model=model, data=data,
                                 key=key, root_certificates=root_certificates, shots=shots, runtime_port=port)
    if dry_run:
        typer.echo(shlex.join(args))
        return
    raise typer.Exit(subprocess.call(args))

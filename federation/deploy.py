"""The Flower App a SuperLink runs for a real deployment: ``pyproject.toml`` naming our two apps.

``hub federate --version X`` writes it under ``<hub data dir>/federation/app`` with the run's
settings as ``[tool.flwr.app.config]`` and submits it with ``flwr run``. SuperLink, SuperNodes
and the hub must have the same ``mome-hub`` (and ``flwr``) installed: the FAB carries only this file.
"""

from __future__ import annotations

import json
from importlib.metadata import version as package_version
from pathlib import Path

from federation.settings import FederationSettings

SERVER_APP = "federation.server_app:app"
CLIENT_APP = "federation.client_app:app"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def write_flower_app(out_dir: Path, settings: FederationSettings) -> Path:
    """Write the Flower App directory for ``settings``; return it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    config = "\n".join(f"{k} = {_toml_value(v)}" for k, v in settings.to_run_config().items())
    (out_dir / "pyproject.toml").write_text(f'''[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "mome-federation"
version = "1.0.0"
description = "MoME Hub: federated averaging of the shared experts"
license = "Apache-2.0"
dependencies = ["flwr=={package_version("flwr")}"]

[tool.hatch.build.targets.wheel]
packages = ["."]

[tool.flwr.app]
publisher = "mome-hub"

[tool.flwr.app.components]
serverapp = "{SERVER_APP}"
clientapp = "{CLIENT_APP}"

[tool.flwr.app.config]
{config}
''')
    return out_dir


def flwr_run_args(app_dir: Path, superlink: str) -> list[str]:
    """``flwr run`` for the app on the named SuperLink connection (see ``~/.flwr/config.toml``)."""
    return ["flwr", "run", str(app_dir), superlink, "--stream"]

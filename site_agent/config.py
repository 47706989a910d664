"""The site config: which hub, which center, which token, and the hub key pinned at ``init``.

It lives in ``WORKDIR/site.json`` (mode 600). The workdir is ``--workdir``, else the
environment variable ``MOME_SITE_WORKDIR``, else ``./site-agent``. The token may be left
out of the file and given in ``MOME_SITE_TOKEN`` instead; the variable wins when both exist.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.fsutil import atomic_write_bytes
from protocols.groups import validate_center_code
from protocols.hub_api import SigningKeyInfo

WORKDIR_ENV = "MOME_SITE_WORKDIR"
TOKEN_ENV = "MOME_SITE_TOKEN"
DEFAULT_WORKDIR = Path("site-agent")
CONFIG_NAME = "site.json"

WorkdirOpt = Annotated[Path | None, typer.Option(
    "--workdir", help=f"Site working folder (config, pulled models, receipts); env {WORKDIR_ENV}, "
                      "default ./site-agent.")]


class SiteConfig(BaseModel):
    """What ``site-agent init`` wrote; the signing key is the one every later pull is checked against."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hub_url: str = Field(pattern=r"^https?://\S+$")
    center: str
    token: str | None = Field(default=None, description="absent when the token comes from MOME_SITE_TOKEN")
    signing: SigningKeyInfo
    protocol_version: str
    hub_version: str
    created_at: datetime

    @field_validator("center")
    @classmethod
    def _center(cls, v: str) -> str:
        return validate_center_code(v)


def resolve_workdir(workdir: Path | None = None) -> Path:
    """``workdir``, else ``$MOME_SITE_WORKDIR``, else ``./site-agent``."""
    if workdir is not None:
        return Path(workdir)
    env = os.environ.get(WORKDIR_ENV, "").strip()
    return Path(env) if env else DEFAULT_WORKDIR


def config_path(workdir: Path | None = None) -> Path:
    return resolve_workdir(workdir) / CONFIG_NAME


def find_config(workdir: Path | None = None) -> SiteConfig | None:
    """The site config when the workdir has one; ``None`` when it has none (a local-only setup)."""
    path = config_path(workdir)
    return load_config(workdir) if path.is_file() else None


def load_config(workdir: Path | None = None) -> SiteConfig:
    """The site config; one clear sentence when it is missing or broken."""
    path = config_path(workdir)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; run `site-agent init --hub URL --center CODE --token T` "
                                f"first or pass --workdir / set {WORKDIR_ENV}")
    try:
        return SiteConfig.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "config"
        raise ValueError(f"{path}: field {where!r}: {err['msg']}; run `site-agent init --force` again") from None


def site_token(config: SiteConfig) -> str:
    """``$MOME_SITE_TOKEN`` when set, else the token in the config."""
    token = os.environ.get(TOKEN_ENV, "").strip() or config.token
    if not token:
        raise ValueError(f"no site token: the config has none and {TOKEN_ENV} is not set")
    return token


def save_config(config: SiteConfig, workdir: Path | None = None) -> Path:
    """Write the config atomically with mode 600 (it may hold the token)."""
    path = config_path(workdir)
    atomic_write_bytes(path, (config.model_dump_json(indent=2) + "\n").encode(), mode=0o600)
    return path

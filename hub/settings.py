"""Hub settings from ``MOME_HUB_*`` environment variables and CLI flags."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MetricsAccess(StrEnum):
    """Who may read ``/metrics``: clients on this host (scrapers run beside the hub), operator tokens, or anyone."""

    LOOPBACK = "loopback"
    OPERATOR = "operator"
    PUBLIC = "public"


class HubSettings(BaseSettings):
    """Everything the hub needs to start; defaults give an embedded hub under ``./hub-data``."""

    model_config = SettingsConfigDict(env_prefix="MOME_HUB_", extra="forbid")

    data_dir: Path = Field(default=Path("hub-data"), description="SQLite file, blobs/ and the signing key")
    db: str | None = Field(default=None, description="SQLAlchemy URL; default sqlite under data_dir")
    signing_key: Path | None = Field(default=None, description="Ed25519 PEM; default data_dir/signing_key.pem")
    host: str = "127.0.0.1"
    port: int = Field(default=8700, ge=1, le=65535)
    max_push_bytes: int = Field(default=256 * 1024 * 1024, gt=0, description="largest accepted push file")
    max_header_bytes: int = Field(default=1024 * 1024, gt=0, description="largest safetensors JSON header")
    chunk_bytes: int = Field(default=1024 * 1024, gt=0)
    recommend_cache_s: float = Field(default=2.0, ge=0, description="how long ranking inputs are cached")
    metrics: MetricsAccess = Field(default=MetricsAccess.LOOPBACK, description="who may read /metrics")
    log_level: str = "info"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{(self.data_dir / 'hub.sqlite3').resolve()}"

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key or self.data_dir / "signing_key.pem"

"""Bounded path and query parameters: both databases see only ids and codes they can store (else 422)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from protocols.manifest import SafeFileName
from protocols.text import DB_INT_MAX, CenterCode, Version

IdPath = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="positive database id")]
VersionPath = Annotated[Version, Path(description="model version")]
CenterPath = Annotated[CenterCode, Path(description="center code")]
FileNamePath = Annotated[SafeFileName, Path(description="file name from the version's manifest")]
Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="lower-case hex sha256")]
VersionQuery = Annotated[Version | None, Query(description="only this model version")]
CenterQuery = Annotated[CenterCode | None, Query(description="only this center")]
ActionQuery = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z][a-z_.]*$", description="e.g. router.push")]

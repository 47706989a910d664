"""Model directory manifest: what a published model version is made of."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from protocols.groups import SHAREABLE_GROUPS, parse_group, validate_center_code, validate_group_name
from protocols.text import Name, ShortText, Version
from protocols.version import PROTOCOL_VERSION, WEIGHTS_FORMAT

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="lower-case hex sha256")]
SafeFileName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
DTYPES = ("F32", "F16", "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "BOOL")


class StrictModel(BaseModel):
    """Base for every wire message: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FileEntry(StrictModel):
    """One file of a model directory, referenced by content hash."""

    name: SafeFileName
    sha256: Sha256
    size: int = Field(ge=0)


class TensorSpec(StrictModel):
    """Where a tensor lives and what it must look like."""

    group: str
    file: SafeFileName
    shape: list[Annotated[int, Field(ge=0)]]
    dtype: str

    @field_validator("group")
    @classmethod
    def _known_group(cls, v: str) -> str:
        parse_group(v)
        return v

    @field_validator("dtype")
    @classmethod
    def _known_dtype(cls, v: str) -> str:
        if v not in DTYPES:
            raise ValueError(f"dtype {v!r} is not one of {', '.join(DTYPES)}")
        return v


class Lineage(StrictModel):
    """Where a model version or router came from."""

    base_version: str | None = None
    init_router: str | None = None
    center: str | None = None
    shots: int | None = Field(default=None, ge=0)
    cases: list[str] = Field(default_factory=list, description="local case ids; never leave the site")
    metrics: dict[str, float] = Field(default_factory=dict)
    notes: str | None = None


class ModelManifest(StrictModel):
    """The ``manifest.json`` of a model directory (DESIGN.md, weights contract)."""

    protocol_version: str = PROTOCOL_VERSION
    format: str = WEIGHTS_FORMAT
    family: ShortText
    config_name: Name
    config: dict[str, Any]
    version: Version
    method: str = "mome"
    centers: list[str]
    files: list[FileEntry] = Field(min_length=1)
    tensors: dict[str, TensorSpec] = Field(min_length=1)
    lineage: Lineage = Field(default_factory=Lineage)
    shareable_groups: list[str] = Field(
        default_factory=lambda: sorted(SHAREABLE_GROUPS), max_length=16,
        description="fixed tensor groups a site may push back (its family's declaration); router.<CENTER> always may")

    @field_validator("shareable_groups")
    @classmethod
    def _valid_shareable(cls, v: list[str]) -> list[str]:
        for name in v:
            validate_group_name(name)
        if len(set(v)) != len(v):
            raise ValueError("shareable_groups must not repeat")
        return v

    @field_validator("centers")
    @classmethod
    def _valid_centers(cls, v: list[str]) -> list[str]:
        for code in v:
            validate_center_code(code)
        if len(set(v)) != len(v):
            raise ValueError("centers must not repeat")
        return v

    @field_validator("format")
    @classmethod
    def _safetensors_only(cls, v: str) -> str:
        if v != WEIGHTS_FORMAT:
            raise ValueError(f"weights format {v!r} is not accepted; only {WEIGHTS_FORMAT}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> ModelManifest:
        names = {f.name for f in self.files}
        if len(names) != len(self.files):
            raise ValueError("files must not repeat")
        for tname, spec in self.tensors.items():
            if spec.file not in names:
                raise ValueError(f"tensor {tname!r} names file {spec.file!r}, which is not in files")
            kind, center = parse_group(spec.group)
            if kind == "router" and center not in self.centers:
                raise ValueError(f"tensor {tname!r} is in group {spec.group!r} but that center is not listed")
        return self

    def groups(self) -> dict[str, list[str]]:
        """Tensor names by group, sorted, for display and checks."""
        out: dict[str, list[str]] = {}
        for name, spec in sorted(self.tensors.items()):
            out.setdefault(spec.group, []).append(name)
        return out

    def file(self, name: str) -> FileEntry:
        """The file entry called ``name``; ``KeyError`` if absent."""
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(name)

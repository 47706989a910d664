"""Check a pushed safetensors file against its manifest and the base version's tensor allowlist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from hub.errors import Forbidden, PushRejected
from hub.services.safetensors_io import Header, all_finite, read_header
from protocols.groups import is_shareable_group, router_group
from protocols.manifest import ModelManifest, TensorSpec
from protocols.router_update import RouterUpdateManifest
from protocols.version import PROTOCOL_VERSION


@dataclass(frozen=True)
class ValidatedPush:
    header: Header
    experts_included: bool


def gate_specs(base: ModelManifest, center: str, init_router: str | None = None) -> dict[str, TensorSpec]:
    """The ``router.<center>`` tensors a push must carry; a new center's gate mirrors an existing one."""
    group = router_group(center)
    own = {n: s for n, s in base.tensors.items() if s.group == group}
    if own:
        return own
    gated = sorted({s.group.split(".", 1)[1] for s in base.tensors.values() if s.group.startswith("router.")})
    hint = (init_router or "").removeprefix("router.").split("@")[0]
    template = hint if hint in gated else (gated[0] if gated else None)
    if template is None:
        raise PushRejected(f"base version {base.version} has no router group to model center {center}'s gate on",
                           field="center", code="no_router_template")
    out: dict[str, TensorSpec] = {}
    for name, spec in base.tensors.items():
        if spec.group != router_group(template):
            continue
        parts = name.split(".")
        if template not in parts:
            raise PushRejected(f"gate tensor {name!r} of base version {base.version} does not carry its center "
                               f"code, so a gate for new center {center} cannot be named", field=name,
                               code="no_router_template")
        out[".".join(center if p == template else p for p in parts)] = spec.model_copy(update={"group": group})
    return out


def check_manifest(update: RouterUpdateManifest, base: ModelManifest, site_center: str) -> None:
    if update.center != site_center:
        raise Forbidden(f"this token belongs to center {site_center} and may not push for center {update.center}",
                        field="center", code="wrong_center")
    if update.protocol_version.split(".")[0] != PROTOCOL_VERSION.split(".")[0]:
        raise PushRejected(f"protocol_version {update.protocol_version} is not compatible with {PROTOCOL_VERSION}",
                           field="protocol_version", code="protocol_mismatch")
    if update.family != base.family:
        raise PushRejected(f"family {update.family!r} does not match base version family {base.family!r}",
                           field="family", code="family_mismatch")


def validate_tensors(fh: BinaryIO, size: int, *, update: RouterUpdateManifest, base: ModelManifest,
                     max_header_bytes: int) -> ValidatedPush:
    """Every rule of the push contract on an already size- and hash-checked file."""
    header = read_header(fh, size, max_header_bytes=max_header_bytes, what="push file")
    gates = gate_specs(base, update.center, update.init_router)
    # The allowlist is the base version's own declaration (its family's shareable groups), never a fixed
    # list of one family's names: experts for MoME-RO, modality and fusion experts for others.
    shareable = set(base.shareable_groups)
    fixed = {n: s for n, s in base.tensors.items() if s.group in shareable}
    allowed = {**fixed, **gates}
    for name, entry in sorted(header.tensors.items()):
        spec = allowed.get(name)
        if spec is None:
            known = base.tensors.get(name)
            if known is not None and not is_shareable_group(known.group, shareable):
                raise PushRejected(f"tensor {name!r} is in group {known.group}, which may not leave a site",
                                   field=name, code="group_not_allowed")
            if known is not None:
                raise PushRejected(f"tensor {name!r} is in group {known.group}, not router.{update.center}",
                                   field=name, code="group_not_allowed")
            groups = " or ".join([*sorted(shareable), f"router.{update.center}"])
            raise PushRejected(f"tensor {name!r} is not a {groups} tensor of base version {base.version}",
                               field=name, code="tensor_not_allowed")
        if list(entry.shape) != list(spec.shape):
            raise PushRejected(f"tensor {name!r} has shape {list(entry.shape)}, expected {spec.shape}",
                               field=name, code="wrong_shape")
        if entry.dtype != spec.dtype:
            raise PushRejected(f"tensor {name!r} has dtype {entry.dtype}, expected {spec.dtype}",
                               field=name, code="wrong_dtype")
    for name in sorted(gates):
        if name not in header.tensors:
            raise PushRejected(f"gate tensor {name!r} is missing from the push", field=name, code="missing_tensor")
    present = [n for n in fixed if n in header.tensors]
    for group in sorted(shareable):
        members = {n for n, s in fixed.items() if s.group == group}
        sent = members & set(present)
        if sent and sent != members:
            missing = sorted(members - sent)[0]
            raise PushRejected(f"{group} tensor {missing!r} is missing: push all {group} tensors or none",
                               field=missing, code="missing_tensor")
    if update.router_only == bool(present):
        raise PushRejected("router_only says " + ("no experts are" if update.router_only else "experts are")
                           + " included but the file disagrees", field="router_only", code="router_only_mismatch")
    for name, entry in sorted(header.tensors.items()):
        if not all_finite(fh, entry):
            raise PushRejected(f"tensor {name!r} contains NaN or Inf values", field=name, code="non_finite")
    return ValidatedPush(header=header, experts_included=bool(present))

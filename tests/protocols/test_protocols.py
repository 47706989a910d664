"""Wire types: strict, JSON round-trip, and the group rules of the weights contract."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from protocols import (
    FileEntry,
    Lineage,
    ModelManifest,
    RouterUpdateManifest,
    TensorSpec,
    is_shareable_group,
    parse_group,
    router_group,
)

SHA = "a" * 64


def manifest(**kw) -> ModelManifest:
    args = dict(
        family="mome_ro", config_name="mome_ro.tiny", config={"k": 1}, version="1.0", centers=["A", "B"],
        files=[FileEntry(name="router.A.safetensors", sha256=SHA, size=10)],
        tensors={"mome.0.gates.A.w_gate.weight": TensorSpec(group="router.A", file="router.A.safetensors",
                                                            shape=[4, 8], dtype="F32")},
        lineage=Lineage(base_version="0.9", init_router="B", shots=3, metrics={"dice": 0.8}),
    )
    args.update(kw)
    return ModelManifest(**args)


def test_model_manifest_round_trips_through_json() -> None:
    m = manifest()
    assert ModelManifest.model_validate_json(m.model_dump_json()) == m


def test_router_update_manifest_round_trips_through_json() -> None:
    m = RouterUpdateManifest(family="mome_ro", center="D", base_version="1.0", init_router="B", shots=3,
                             sample_count=3, metrics={"dice": 0.7}, sha256=SHA, size=1234)
    assert RouterUpdateManifest.model_validate_json(m.model_dump_json()) == m


def test_unknown_fields_are_rejected() -> None:
    data = manifest().model_dump()
    data["images"] = ["x.nii.gz"]
    with pytest.raises(ValidationError, match="images"):
        ModelManifest.model_validate(data)


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(format="pickle"), "only safetensors"),
        (dict(centers=["A", "A"]), "repeat"),
        (dict(centers=["B"]), "center is not listed"),
        (dict(version="../x"), "version"),
    ],
)
def test_manifest_validation(kw: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        manifest(**kw)


def test_tensor_spec_rejects_unknown_group_and_dtype() -> None:
    for bad in ("Weights", "../x", "router", "x" * 33, "a b"):
        with pytest.raises(ValidationError, match="unknown tensor group"):
            TensorSpec(group=bad, file="a.safetensors", shape=[1], dtype="F32")
    assert TensorSpec(group="fusion_experts", file="a.safetensors", shape=[1], dtype="F32").group == "fusion_experts"
    with pytest.raises(ValidationError, match="dtype"):
        TensorSpec(group="experts", file="a.safetensors", shape=[1], dtype="object")


def test_group_rules() -> None:
    assert router_group("D") == "router.D"
    assert parse_group("router.D") == ("router", "D")
    assert is_shareable_group("experts") and is_shareable_group("router.E")
    for group in ("encoder", "decoder", "alignment", "prompt"):
        assert not is_shareable_group(group)
    assert is_shareable_group("fusion", {"experts", "fusion"}) and not is_shareable_group("fusion")
    with pytest.raises(ValueError):
        router_group("../etc")

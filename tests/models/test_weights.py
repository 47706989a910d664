"""Model directories: bit-exact round trip; tampered, truncated or foreign files refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from models.registry import create_model
from models.weights import WeightsError, load_model_dir, read_manifest, save_model_dir
from protocols import Lineage


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    net, spec = create_model("mome_ro.tiny", centers=["A", "B"])
    save_model_dir(net, spec, tmp_path / "model", version="1.0", lineage=Lineage(notes="test"))
    return tmp_path / "model"


def test_save_load_round_trips_bit_exactly(tmp_path: Path) -> None:
    net, spec = create_model("mome_ro.tiny", centers=["A", "B"])
    net.add_center("D", init_from="A")
    manifest = save_model_dir(net, spec, tmp_path / "m", version="2.0")
    loaded, _, manifest2 = load_model_dir(tmp_path / "m")
    assert manifest2 == manifest
    assert loaded.routers == ["A", "B", "D"]
    original, restored = net.state_dict(), loaded.state_dict()
    assert original.keys() == restored.keys()
    for name, tensor in original.items():
        assert torch.equal(tensor, restored[name]), name


def test_manifest_lists_groups_files_and_hashes(model_dir: Path) -> None:
    manifest = read_manifest(model_dir)
    assert {f.name for f in manifest.files} == {p.name for p in model_dir.glob("*.safetensors")}
    assert set(manifest.groups()) == {"encoder", "decoder", "alignment", "prompt", "experts", "router.A",
                                      "router.B"}
    assert manifest.config["name"] == "mome_ro.tiny"


def test_tampered_file_is_refused(model_dir: Path) -> None:
    path = model_dir / "experts.safetensors"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="experts.safetensors does not match its sha256"):
        load_model_dir(model_dir)


def test_truncated_file_is_refused(model_dir: Path) -> None:
    path = model_dir / "decoder.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(WeightsError, match="decoder.safetensors has 100 bytes"):
        load_model_dir(model_dir)


def test_unknown_tensor_is_refused_by_name(model_dir: Path) -> None:
    manifest = json.loads((model_dir / "manifest.json").read_text())
    path = model_dir / "prompt.safetensors"
    save_file({"prompt": torch.zeros(4, 384), "sneaky.extra": torch.zeros(2)}, str(path))
    from models.fsutil import sha256_file

    for f in manifest["files"]:
        if f["name"] == "prompt.safetensors":
            f["sha256"], f["size"] = sha256_file(path), path.stat().st_size
    (model_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="sneaky.extra"):
        load_model_dir(model_dir)


def test_missing_manifest_and_bad_manifest_are_clear(tmp_path: Path, model_dir: Path) -> None:
    with pytest.raises(WeightsError, match="not a model directory"):
        load_model_dir(tmp_path)
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["format"] = "pickle"
    (model_dir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(WeightsError, match="format"):
        load_model_dir(model_dir)


def test_save_refuses_to_overwrite_and_leaves_nothing_partial(tmp_path: Path, model_dir: Path) -> None:
    net, spec = create_model("mome_ro.tiny", centers=["A"])
    before = sorted(p.name for p in model_dir.iterdir())
    with pytest.raises(FileExistsError):
        save_model_dir(net, spec, model_dir, version="9")
    assert sorted(p.name for p in model_dir.iterdir()) == before
    assert not [p for p in model_dir.parent.iterdir() if p.name.startswith(".")]


def test_structured_note_setting_survives_save_and_load(tmp_path: Path) -> None:
    from models.registry import note_encoder
    from models.text import StructuredNoteEncoder

    net, spec = create_model("mome_ro.tiny", centers=["A"])  # built-in configs read the parsed note
    save_model_dir(net, spec, tmp_path / "m", version="1.0")
    loaded, loaded_spec, _ = load_model_dir(tmp_path / "m")
    assert loaded_spec.structured_note is True and loaded.parsed_note_dim == net.parsed_note_dim > 0
    assert isinstance(note_encoder(loaded_spec), StructuredNoteEncoder)
    plain_net, plain = create_model("mome_ro.tiny", centers=["A"], structured_note=False)
    assert not isinstance(note_encoder(plain), StructuredNoteEncoder)
    assert plain_net.parsed_note_dim == 0 and not any(".film." in k for k in plain_net.state_dict())
    save_model_dir(plain_net, plain, tmp_path / "p", version="1.0")
    assert load_model_dir(tmp_path / "p")[0].parsed_note_dim == 0


def test_atomic_path_replaces_only_on_success_and_leaves_no_temp_file(tmp_path) -> None:
    from models.fsutil import atomic_path

    target = tmp_path / "out" / "mask.nii.gz"
    with atomic_path(target, mode=0o644) as tmp:
        assert tmp.endswith(".nii.gz")  # writers that infer the format from the name still see it
        Path(tmp).write_bytes(b"new")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        Path(tmp).write_bytes(b"half")
        raise RuntimeError("writer failed")

    assert target.read_bytes() == b"new" and target.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in target.parent.iterdir()) == ["mask.nii.gz"]

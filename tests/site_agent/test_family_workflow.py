"""Every non-MoME-RO family through the site agent's own commands, on tiny synthetic presets:
families -> synth -> verify -> train -> select-router -> finetune (new center gate) -> evaluate (and explain for
classifiers) -> predict,
and the push a fine-tuned model would make holds only the family's shareable groups and the new gate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.families import families
from models.weights import read_manifest
from site_agent.cli import app
from site_agent.push import build_push

OTHER = sorted(name for name in families() if name != "mome_ro")
runner = CliRunner()


def run_json(*args: object) -> dict:
    result = runner.invoke(app, [str(a) for a in args] + ["--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_families_lists_every_family_with_what_leaves() -> None:
    docs = {d["family"]: d for d in run_json("families")}
    assert set(docs) == set(families())
    assert "experts" in docs["mome_ro"]["shareable_groups"] and "encoder" not in docs["mome_ro"]["shareable_groups"]
    for doc in docs.values():
        assert "router.<CENTER>" in doc["shareable_groups"] and doc["configs"]


@pytest.mark.slow
@pytest.mark.parametrize("family", OTHER)
def test_family_runs_through_the_site_agent(family: str, tmp_path: Path) -> None:
    runner_module = families()[family].load_runner()
    presets = sorted(runner_module.PRESETS)
    data = []
    for preset in presets[:2]:
        doc = run_json("synth", "--family", family, "--center", preset, "--cases", 3, "--seed", 1,
                       "--out", tmp_path / preset)
        assert doc["family"] == family
        data.append(tmp_path / preset)
    assert run_json("verify", "--data", data[0])["ok"]

    trained = run_json("train", "--config", f"{family}.tiny", *sum((["--data", d] for d in data), []),
                       "--steps", 2, "--out", tmp_path / "base", "--threads", 1)
    assert read_manifest(tmp_path / "base").family == family and len(trained["centers"]) == 2

    ranking = run_json("select-router", "--model", tmp_path / "base", "--data", data[1], "--threads", 1)
    assert {r["router"] for r in ranking["ranking"]} == set(trained["centers"])

    tuned = run_json("finetune", "--model", tmp_path / "base", "--center", "D", "--data", data[1], "--shots", 1,
                     "--steps", 2, "--out", tmp_path / "site-D", "--threads", 1)
    manifest = read_manifest(tmp_path / "site-D")
    assert "D" in manifest.centers and manifest.lineage.center == "D" and tuned["center"] == "D"
    assert manifest.lineage.base_version == read_manifest(tmp_path / "base").version

    report = run_json("evaluate", "--model", tmp_path / "site-D", "--data", data[1], "--threads", 1)
    assert report["router"] == "D" and report["summary"]
    if families()[family].task == "classification":  # explain: per-case Shapley values and overlays, with progress
        explained = run_json("explain", "--model", tmp_path / "site-D", "--data", data[1], "--out",
                             tmp_path / "explained", "--threads", 1)
        assert explained["router"] == "D" and explained["n_cases"] == len(explained["cases"]) == 3
        assert (tmp_path / "explained" / "shapley.json").is_file()
    predicted = run_json("predict", "--model", tmp_path / "site-D", "--data", data[1], "--out", tmp_path / "pred",
                         "--threads", 1)
    assert predicted["cases"] and any((tmp_path / "pred").iterdir())

    plan = build_push(tmp_path / "site-D", "D")
    fam = families()[family]
    groups = {row.group for row in plan.tensors}
    assert groups == {"router.D", *fam.shareable_groups}
    assert not any(fam.tensor_group(row.name) not in groups for row in plan.tensors)


def _first_case_images(data: Path) -> dict[str, Path]:
    entry = json.loads((data / "dataset.json").read_text())["training"][0]
    return {seq: data / rel for seq, rel in entry["images"].items()}


@pytest.mark.slow
@pytest.mark.parametrize("family", [f for f in OTHER if families()[f].task == "vqa"])
def test_ask_answers_one_question_and_refuses_out_of_scope(family: str, tmp_path: Path) -> None:
    preset = sorted(families()[family].load_runner().PRESETS)[0]
    run_json("synth", "--family", family, "--center", preset, "--cases", 2, "--out", tmp_path / "d")
    run_json("train", "--config", f"{family}.tiny", "--data", tmp_path / "d", "--steps", 2, "--out", tmp_path / "m",
             "--threads", 1)
    images = sum((["--image", f"{k}={v}"] for k, v in _first_case_images(tmp_path / "d").items()), [])
    doc = run_json("ask", "--model", tmp_path / "m", *images, "--question", "How large is the enhancing tumor?",
                   "--threads", 1)
    assert isinstance(doc["answer"], str) and "refused" in doc

    bad = runner.invoke(app, ["ask", "--model", str(tmp_path / "m"), "--image", "t1", "--question", "x"])
    assert bad.exit_code == 2 and "SEQUENCE=FILE" in bad.output

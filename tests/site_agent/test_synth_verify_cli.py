"""`synth` and `verify` commands through Typer's test runner (registered on a local app)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from site_agent.synth import synth_command
from site_agent.verify import verify_command


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("synth")(synth_command)
    app.command("verify")(verify_command)
    return app


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # newer Click keeps stderr apart already
        return CliRunner()


def test_synth_then_verify_clean(tmp_path: Path) -> None:
    runner, out = _runner(), tmp_path / "E"

    made = runner.invoke(_app(), ["synth", "--center", "E", "--cases", "2", "--out", str(out), "--seed", "4",
                                  "--scale", "0.25", "--json"])
    checked = runner.invoke(_app(), ["verify", "--data", str(out), "--json"])

    assert made.exit_code == 0, made.output
    summary = json.loads(made.stdout)
    assert summary["center"] == "E" and summary["cases"] == 2 and Path(summary["out"]) == out.resolve()
    assert checked.exit_code == 0, checked.output
    assert json.loads(checked.stdout)["ok"] is True


def test_verify_reports_problems_one_line_each_and_exits_1(tmp_path: Path) -> None:
    runner, out = _runner(), tmp_path / "E"
    runner.invoke(_app(), ["synth", "--center", "E", "--cases", "2", "--out", str(out), "--scale", "0.25"])
    doc = json.loads((out / "dataset.json").read_text())
    doc["training"][0]["clinical"] = "<Grade> x"
    (out / doc["training"][1]["label"]).unlink()
    (out / "dataset.json").write_text(json.dumps(doc))

    result = runner.invoke(_app(), ["verify", "--data", str(out)])

    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("case e001: warning:") and "<Grade> value 'x'" in lines[0]
    assert lines[1].startswith("case e002:") and "does not exist" in lines[1]
    assert "dataset.json" in result.stderr and '"clinical": "<Grade> 7 (4+3)' in result.stderr


def test_expected_errors_are_one_sentence_exit_2(tmp_path: Path) -> None:
    runner = _runner()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")

    unknown = runner.invoke(_app(), ["synth", "--center", "Q", "--out", str(tmp_path / "q")])
    occupied = runner.invoke(_app(), ["synth", "--center", "A", "--out", str(tmp_path / "full"), "--scale", "0.2"])
    missing = runner.invoke(_app(), ["verify", "--data", str(tmp_path / "nowhere")])

    for result, needle in ((unknown, "no center preset 'Q'"), (occupied, "not empty"), (missing, "does not exist")):
        assert result.exit_code == 2
        assert needle in " ".join(result.stderr.split()) and "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "q").exists()


def test_synth_randomize_renderer_and_risk_mix_options(tmp_path: Path) -> None:
    runner, out = _runner(), tmp_path / "C"

    made = runner.invoke(_app(), ["synth", "--center", "C", "--cases", "2", "--out", str(out), "--scale", "0.25",
                                  "--randomize", "--renderer", "variant", "--risk-mix", "balanced", "--json"])
    bad = [runner.invoke(_app(), ["synth", "--center", "C", "--out", str(tmp_path / "x"), option, value])
           for option, value in (("--renderer", "fancy"), ("--risk-mix", "weird"))]

    assert made.exit_code == 0, made.output
    doc = json.loads((out / "dataset.json").read_text())
    assert (doc["randomized"], doc["renderer"], doc["risk_mix"]) == (True, "variant", "balanced")
    for result, needle in zip(bad, ("--renderer must be standard", "--risk-mix must be center"), strict=True):
        assert result.exit_code == 2 and needle in " ".join(result.stderr.split())
        assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "x").exists()


def test_verify_reads_every_voxel_one_sentence_per_bad_file(tmp_path: Path) -> None:
    import nibabel as nib
    import numpy as np

    runner, out = _runner(), tmp_path / "E"
    runner.invoke(_app(), ["synth", "--center", "E", "--cases", "3", "--out", str(out), "--scale", "0.25"])
    entries = json.loads((out / "dataset.json").read_text())["training"]
    img = nib.load(out / entries[0]["image"])
    data = np.asarray(img.dataobj).astype(np.float32)
    data[2, 2, 2] = np.nan
    nib.save(nib.Nifti1Image(data, img.affine), out / entries[0]["image"])
    for path in (out / entries[1]["image"], out / entries[2]["label"]):
        path.write_bytes(path.read_bytes()[:-16])

    result = runner.invoke(_app(), ["verify", "--data", str(out)])

    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("case e001: image file") and "NaN or infinite voxel" in lines[0]
    assert lines[1].startswith("case e002: image file") and "truncated or corrupt" in lines[1]
    assert lines[2].startswith("case e003: label file") and "truncated or corrupt" in lines[2]


def test_synth_refuses_an_occupied_out_naming_the_overwrite_option(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")

    result = _runner().invoke(_app(), ["synth", "--center", "E", "--out", str(tmp_path / "full")])

    assert result.exit_code == 2 and "pass --overwrite" in " ".join(result.stderr.split())


def test_progress_is_plain_lines_when_not_a_terminal(tmp_path: Path) -> None:
    result = _runner().invoke(_app(), ["synth", "--center", "E", "--cases", "2", "--out", str(tmp_path / "E"),
                                       "--scale", "0.25"])

    assert result.exit_code == 0
    assert "center E: 1/2 (50%)" in result.stderr and "center E: 2/2 (100%)" in result.stderr
    assert "\x1b[" not in result.stderr and "━" not in result.stderr


def test_results_go_to_stdout_and_progress_to_stderr(tmp_path: Path) -> None:
    runner, out = _runner(), tmp_path / "E"

    made = runner.invoke(_app(), ["synth", "--center", "E", "--cases", "2", "--out", str(out), "--scale", "0.25"])
    checked = runner.invoke(_app(), ["verify", "--data", str(out)])

    assert made.exit_code == 0 and checked.exit_code == 0
    assert "wrote 2 cases of center E" in made.stdout and "wrote 2 cases" not in made.stderr
    assert "center E: 2/2" in made.stderr and "center E: 2/2" not in made.stdout
    assert "2 cases, no problems" in checked.stdout


def test_verify_warns_about_an_unreadable_note_but_passes(tmp_path: Path) -> None:
    runner, out = _runner(), tmp_path / "E"
    runner.invoke(_app(), ["synth", "--center", "E", "--cases", "2", "--out", str(out), "--scale", "0.25"])
    doc = json.loads((out / "dataset.json").read_text())
    doc["training"][0]["clinical"] = "referred by GP, history unremarkable"
    (out / "dataset.json").write_text(json.dumps(doc))

    result = runner.invoke(_app(), ["verify", "--data", str(out), "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and [p["case_id"] for p in report["problems"]] == ["e001"]
    assert all(p["warning"] for p in report["problems"])

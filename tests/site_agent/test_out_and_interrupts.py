"""--out is checked before any work; Ctrl-C in finetune leaves no model folder behind, only one line."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from site_agent.cli import app
from site_agent.finetune_run import Stage, finetune_to
from site_agent.push import newest_finetuned


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # newer Click keeps stderr apart already
        return CliRunner()


@pytest.fixture()
def occupied(tmp_path: Path) -> Path:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    return tmp_path / "full"


@pytest.mark.parametrize("args", [
    ["train", "--data", "nowhere", "--out", "{out}"],
    ["finetune", "--center", "D", "--model", "missing", "--data", ".", "--out", "{out}"],
    ["synth", "--center", "E", "--out", "{out}"],
])
def test_an_occupied_out_is_refused_before_any_work(occupied: Path, args: list[str]) -> None:
    result = _runner().invoke(app, [a.format(out=occupied) for a in args])

    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "already exists and is not empty; pass --overwrite" in message and "Traceback" not in result.output
    assert [p.name for p in occupied.iterdir()] == ["keep.txt"]


def _fake_finetune(model_dir: Path, data_dir: Path, out_dir: Path, **_: object) -> SimpleNamespace:
    (Path(out_dir) / "manifest.json").write_text("{}")
    return SimpleNamespace(held_out=["d005"])


def _interrupt(*_: object, **__: object) -> None:
    raise KeyboardInterrupt


@pytest.mark.parametrize("where, stage", [("evaluate", "evaluating on the held-out cases"),
                                          ("train", "fine-tuning")])
def test_ctrl_c_in_finetune_keeps_nothing_and_says_so(untrained_model: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, where: str, stage: str) -> None:
    monkeypatch.setattr("models.training.finetune.finetune_center",
                        _fake_finetune if where == "evaluate" else _interrupt)
    monkeypatch.setattr("site_agent.finetune_hub.evaluate_before_after", _interrupt)
    out = tmp_path / "models" / "ft"

    result = _runner().invoke(app, ["finetune", "--center", "D", "--model", str(untrained_model), "--data",
                                    str(tmp_path), "--out", str(out), "--device", "cpu"])

    assert result.exit_code == 130
    lines = [line for line in result.stderr.splitlines() if "interrupted" in line]
    assert len(lines) == 1 and f"interrupted while {stage}: no fine-tuned model was written" in lines[0]
    assert not out.exists() and list((tmp_path / "models").iterdir()) == []


def test_the_model_folder_appears_only_with_its_evaluation(untrained_model: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []

    def evaluate(base: Path, staging: Path, *_: object, **__: object) -> dict:
        seen.append((tmp_path / "ft").exists())
        (staging / "evaluation.json").write_text(json.dumps({"metrics": {}}))
        return {"cases": 1}

    monkeypatch.setattr("models.training.finetune.finetune_center", _fake_finetune)
    monkeypatch.setattr("site_agent.finetune_hub.evaluate_before_after", evaluate)
    stage = Stage()

    _, evaluation = finetune_to(tmp_path / "ft", base=untrained_model, data=tmp_path, center="D", shots=1,
                                init_router=None, shot_ids=[], settings=None, groups=None,  # type: ignore[arg-type]
                                device="cpu", overwrite=False, stage=stage)

    assert seen == [False] and evaluation == {"cases": 1} and stage.now == "done"
    assert sorted(p.name for p in (tmp_path / "ft").iterdir()) == ["evaluation.json", "manifest.json"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_push_never_picks_a_hidden_staging_folder(tmp_path: Path) -> None:
    for name in ("1.0+D-20250101T000000", ".1.0+D-20250102T000000.abc.tmp"):
        (tmp_path / "finetuned" / name).mkdir(parents=True)
        (tmp_path / "finetuned" / name / "manifest.json").write_text("{}")

    assert newest_finetuned(tmp_path) == tmp_path / "finetuned" / "1.0+D-20250101T000000"


@pytest.mark.parametrize("checkpointed", [True, False])
def test_ctrl_c_in_train_says_what_resume_would_continue_from(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              checkpointed: bool) -> None:
    from models.training.checkpoint import checkpoint_folder

    out = tmp_path / "models" / "base"

    def interrupted_training(*_: object, **__: object) -> None:
        if checkpointed:
            folder = checkpoint_folder(out)
            folder.mkdir(parents=True)
            (folder / "state.json").write_text(json.dumps({"step": 40, "param_groups": []}))
        raise KeyboardInterrupt

    monkeypatch.setattr("models.training.train.train_multicenter", interrupted_training)

    result = _runner().invoke(app, ["train", "--data", str(tmp_path), "--out", str(out), "--device", "cpu"])

    assert result.exit_code == 130 and not out.exists()
    lines = [line for line in result.stderr.splitlines() if "interrupted" in line]
    assert len(lines) == 1
    if checkpointed:
        assert "checkpoint of step 40" in lines[0] and "--resume" in lines[0]
    else:
        assert "before the first checkpoint" in lines[0] and "nothing was kept" in lines[0]

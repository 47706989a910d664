"""A torchvision of another build (nnU-Net brings one) neither breaks the note encoder nor goes unexplained."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from site_agent.doctor import _torchvision_check

BROKEN = 'raise RuntimeError("operator torchvision::nms does not exist")\n'
LOAD_ENCODER = """\
import monai.networks.nets  # imports transformers first, as every command that loads a model does
from models.text import HFTextEncoder
emb, mask = HFTextEncoder().encode(["<Grade> 7 (4+3) <PSA> 11.6"])
print("encoded", tuple(emb.shape))
"""


@pytest.fixture()
def broken_torchvision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``torchvision`` package first on the path of child processes that fails on import like a CUDA build
    beside a CPU torch, with the dist-info a pip install leaves."""
    (tmp_path / "torchvision").mkdir()
    (tmp_path / "torchvision" / "__init__.py").write_text(BROKEN)
    (tmp_path / "torchvision-0.99.0+cu130.dist-info").mkdir()
    (tmp_path / "torchvision-0.99.0+cu130.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: torchvision\nVersion: 0.99.0+cu130\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    return tmp_path


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False,
                          cwd=Path(__file__).parents[2])


def test_the_fake_torchvision_really_breaks_transformers(broken_torchvision: Path) -> None:
    run = _python("from transformers import BertModel")

    assert run.returncode != 0 and "torchvision::nms" in run.stderr


def test_the_note_encoder_loads_beside_a_broken_torchvision(broken_torchvision: Path) -> None:
    run = _python(LOAD_ENCODER)

    assert run.returncode == 0, run.stderr[-2000:]
    assert "encoded (1," in run.stdout


def test_doctor_explains_a_broken_pair(broken_torchvision: Path) -> None:
    check = _torchvision_check()

    assert check.status == "WARN"
    assert "torchvision 0.99.0+cu130" in check.detail and "torchvision::nms" in check.detail
    assert "does not need torchvision" in check.detail
    assert "pip uninstall torchvision" in check.fix and "matching build" in check.fix


def test_doctor_is_quiet_without_torchvision() -> None:
    assert _torchvision_check().status == "OK"

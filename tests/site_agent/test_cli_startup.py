"""The CLI starts without torch, MONAI or transformers: help and cheap checks answer at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("torch", "monai", "transformers")
_REPORT = f"import json\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"


def _heavy_after(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", f"import sys\n{code}\n{_REPORT}"], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _invoke(args: list[str]) -> str:
    return f"from site_agent.cli import app\ntry:\n    app({args!r})\nexcept SystemExit:\n    pass"


def test_importing_the_cli_loads_no_heavy_module() -> None:
    assert _heavy_after("import site_agent.cli") == []


@pytest.mark.parametrize("args", [["--help"], ["finetune", "--help"], ["predict", "--help"], ["train", "--help"],
                                  ["verify", "--data", "/missing"]])
def test_help_and_cheap_commands_load_no_heavy_module(args: list[str]) -> None:
    assert _heavy_after(_invoke(args)) == []


def test_site_agent_help_in_a_subprocess_lists_every_command() -> None:
    done = subprocess.run([sys.executable, "-m", "site_agent", "--help"], capture_output=True, text=True)

    assert done.returncode == 0
    for command in ("verify", "train", "finetune", "predict", "push", "federate", "demo"):
        assert command in done.stdout


def test_finetune_help_names_the_center_option_not_a_positional() -> None:
    done = subprocess.run([sys.executable, "-m", "site_agent", "finetune", "--help"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})

    assert done.returncode == 0
    assert "for CENTER" not in done.stdout and "center (--center)" in done.stdout


def test_finetune_help_states_the_real_defaults() -> None:
    from models.training.finetune import ALL_GROUPS, FINETUNE_DEFAULTS
    from site_agent.finetune import DEFAULT_LR, GROUP_NAMES

    assert FINETUNE_DEFAULTS.lr == DEFAULT_LR
    assert ALL_GROUPS == GROUP_NAMES

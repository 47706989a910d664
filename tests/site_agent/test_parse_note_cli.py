"""`site-agent parse-note`: per-field results as a table or JSON; exit 1 only for an unusable note."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from site_agent.cli import app

NOTE = "GS 4+3=7, cT2b N0 M0, iPSA 12.4 ng/mL, 71 yo"


def _runner() -> CliRunner:
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:  # newer Click keeps stderr apart already
        return CliRunner()


def test_json_gives_every_field_with_its_source_text() -> None:
    result = _runner().invoke(app, ["parse-note", NOTE, "--json"])

    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    fields = doc["fields"]
    assert fields["gleason_score"] == {"value": 7, "source": "GS 4+3=7", "span": [0, 8], "problems": []}
    assert fields["psa"]["value"] == 12.4 and fields["psa"]["source"] == "iPSA 12.4"
    assert fields["risk_group"]["value"] == doc["risk_group"] == "intermediate"
    assert doc["usable"] is True and doc["missing"] == []


def test_missing_fields_still_exit_0_with_an_unknown_risk_group() -> None:
    result = _runner().invoke(app, ["parse-note", "--json", "Gleason 3+4=7, 64 y/o"])

    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["risk_group"] == "unknown" and doc["fields"]["psa"]["value"] is None
    assert doc["missing"] == ["T stage", "N stage", "M stage", "PSA"]
    assert "T stage" in doc["fields"]["risk_group"]["problems"][0]


def test_a_bound_keeps_its_sign() -> None:
    doc = json.loads(_runner().invoke(app, ["parse-note", "--json", "PSA >100"]).stdout)

    assert doc["fields"]["psa"]["value"] == 100.0 and doc["fields"]["psa"]["qualifier"] == ">"


def test_human_output_is_a_table_of_field_value_and_source(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("Patient aged 68.\nISUP grade group 5; cT3b N0; PSA: 45 ng/ml\n", encoding="utf-8")

    result = _runner().invoke(app, ["parse-note", "--file", str(note)], env={"COLUMNS": "160"})

    assert result.exit_code == 0
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines() if line.count("│") == 5}
    assert "very_high" in rows["risk group"] and "PSA: 45" in rows["PSA"] and "aged 68" in rows["age"]
    assert "missing" in rows["Gleason score"]


def test_a_note_that_contradicts_itself_exits_1_naming_the_field() -> None:
    result = _runner().invoke(app, ["parse-note", "--json", "PSA 12.4, repeat PSA 8.1"])

    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["usable"] is False and "two different values for the PSA" in doc["fields"]["psa"]["problems"][0]
    assert "two different values for the PSA" in result.stderr


def test_bad_input_is_one_sentence(tmp_path: Path) -> None:
    empty = _runner().invoke(app, ["parse-note", "  "])
    neither = _runner().invoke(app, ["parse-note"])
    both = _runner().invoke(app, ["parse-note", NOTE, "--file", str(tmp_path / "x.txt")])
    absent = _runner().invoke(app, ["parse-note", "--file", str(tmp_path / "x.txt")])

    assert empty.exit_code == 1 and "empty" in empty.stderr
    assert neither.exit_code == both.exit_code == 2 and "not both and not neither" in neither.stderr
    assert absent.exit_code == 2 and "does not exist" in absent.stderr
    for result in (empty, neither, both, absent):
        assert "Traceback" not in result.stdout + result.stderr


def test_parse_note_loads_no_heavy_module() -> None:
    code = ("import sys\nfrom site_agent.cli import app\ntry:\n    app(['parse-note', 'GG2, PSA 5'])\n"
            "except SystemExit:\n    pass\nprint(sorted(m for m in ('torch', 'monai', 'transformers') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout.strip().splitlines()[-1] == "[]"

"""The operator CLI on a fresh data directory, every command with --json, errors without tracebacks."""

from __future__ import annotations

import json

from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from hub.cli import app
from hub.db.migrate import alembic_config
from hub.db.session import make_engine
from tests.hub.hubfake import make_model_dir

runner = CliRunner()


def _run(settings, *args: str, ok: bool = True):
    extra = ["--data-dir", str(settings.data_dir)] + (["--db", settings.db] if settings.db else [])
    result = runner.invoke(app, [*args, *extra])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def _json(settings, *args: str):
    return json.loads(_run(settings, *args, "--json").stdout)


def test_cli_commands_on_fresh_data_dir(settings, tmp_path):
    # any order on a fresh directory: listing first migrates
    assert _json(settings, "versions", "list") == []
    head = ScriptDirectory.from_config(alembic_config(make_engine(settings.db_url))).get_current_head()
    assert _json(settings, "db", "upgrade") == {"revision": head}
    model = make_model_dir(tmp_path / "model", version="0.9-dev")
    pub = _json(settings, "publish", str(model), "--version", "2.0", "--notes", "first")
    assert pub["version"] == "2.0" and pub["status"] == "published" and pub["notes"] == "first"
    draft = _json(settings, "publish", str(model), "--version", "2.1", "--draft")
    assert draft["status"] == "draft"
    assert [v["version"] for v in _json(settings, "versions", "list")] == ["2.1", "2.0"]
    assert _json(settings, "versions", "set-status", "2.1", "published")["status"] == "published"
    site = _json(settings, "sites", "add", "--center", "D", "--name", "delta")
    assert site["token"].startswith("mhs_") and site["site"]["center"] == "D"
    op = _json(settings, "operators", "add", "--name", "alice")
    assert op["token"].startswith("mho_")
    listed = _json(settings, "sites", "list")
    assert [s["center"] for s in listed] == ["D"] and site["token"] not in json.dumps(listed)
    assert _json(settings, "sites", "revoke", str(site["site"]["id"]))["revoked"] is True
    routers = _json(settings, "routers", "list", "--center", "A")
    assert [r["model_version"] for r in routers] == ["2.0", "2.1"]
    fp = tmp_path / "fp.json"
    fp.write_text(json.dumps({"scanner": {"manufacturer": "Siemens"}, "case_count": 50}))
    center = _json(settings, "centers", "set-fingerprint", "A", str(fp), "--display-name", "Alpha")
    assert center["fingerprint"]["scanner"]["manufacturer"] == "Siemens"
    assert {c["code"] for c in _json(settings, "centers", "list")} == {"A", "B", "D"}
    actions = [e["action"] for e in _json(settings, "audit")]
    for action in ("version.publish", "version.draft", "version.status", "site.add", "operator.add",
                   "site.revoke", "center.fingerprint"):
        assert action in actions
    assert _run(settings, "sites", "list").exit_code == 0  # table output


def test_cli_expected_errors_are_one_sentence(settings, tmp_path):
    missing = _run(settings, "publish", str(tmp_path / "nope"), "--version", "1", ok=False)
    assert missing.exit_code == 1 and "manifest.json does not exist" in missing.output
    assert "Traceback" not in missing.output
    model = make_model_dir(tmp_path / "model")
    (model / "moe.safetensors").write_bytes((model / "moe.safetensors").read_bytes()[:-4] + b"\0\0\0\1")
    bad = _run(settings, "publish", str(model), "--version", "1", ok=False)
    assert bad.exit_code == 1 and "sha256" in bad.output and "Traceback" not in bad.output
    assert _json(settings, "versions", "list") == []
    assert not [p for p in (settings.data_dir / "blobs").iterdir() if p.is_file()]
    revoke = _run(settings, "sites", "revoke", "42", ok=False)
    assert revoke.exit_code == 1 and "site 42 does not exist" in revoke.output
    dup = make_model_dir(tmp_path / "m2")
    _run(settings, "publish", str(dup), "--version", "1")
    again = _run(settings, "publish", str(dup), "--version", "1", ok=False)
    assert again.exit_code == 1 and "already exists" in again.output


def test_cli_version_flag():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("hub ")

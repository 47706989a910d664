"""Sites bind their SuperNode keys to their center over the REST API; revoked sites bind nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from federation.keys import fingerprint, make_node_key, public_key_path
from hub.app import create_app
from hub.services import federation_nodes, principals
from hub.settings import HubSettings
from site_agent.federate import register_key, supernode_command


@pytest.fixture()
def hub(tmp_path):
    app = create_app(HubSettings(data_dir=tmp_path / "hub"))
    with TestClient(app) as client:
        yield app.state.hub, client


def test_site_registers_its_key_and_the_hub_binds_it_to_its_center(hub, tmp_path) -> None:
    ctx, client = hub
    d = principals.add_site(ctx.factory, center="D", name="d", actor="test")
    e = principals.add_site(ctx.factory, center="E", name="e", actor="test")
    url = str(client.base_url)
    info = register_key(url, d.token, tmp_path / "d.key", http=client)
    assert info.center == "D" and info.site_id == d.site.id and info.node_id is None
    assert info.fingerprint == fingerprint(public_key_path(tmp_path / "d.key").read_text())
    again = register_key(url, d.token, tmp_path / "d.key", http=client)
    assert again.id == info.id  # the same key twice is one registration
    with pytest.raises(ValueError, match="409.*another site"):
        register_key(url, e.token, tmp_path / "d.key", http=client)
    federation_nodes.set_node_id(ctx.factory, key_id=info.id, node_id=77, actor="test")
    e_key = register_key(url, e.token, tmp_path / "e.key", http=client)
    federation_nodes.set_node_id(ctx.factory, key_id=e_key.id, node_id=78, actor="test")
    with ctx.factory() as s:
        assert federation_nodes.bindings(s) == {77: "D", 78: "E"}
    principals.revoke_site(ctx.factory, site_id=d.site.id, actor="test")
    with ctx.factory() as s:
        assert federation_nodes.bindings(s) == {78: "E"}  # revoking the site revokes its node
    assert client.get("/v1/federation/node-keys").status_code == 401


def test_only_a_site_token_registers_and_the_body_is_checked(hub, tmp_path) -> None:
    ctx, client = hub
    d = principals.add_site(ctx.factory, center="D", name="d", actor="test")
    auth = {"Authorization": f"Bearer {d.token}"}
    bad = client.post("/v1/federation/node-keys", json={"public_key": "ssh-rsa AAAAB3NzaC1yc2E"}, headers=auth)
    assert bad.status_code == 422
    broken = client.post("/v1/federation/node-keys", json={"public_key": "ecdsa-sha2-nistp256 AAAAA"}, headers=auth)
    assert broken.status_code == 422 and "not a valid OpenSSH public key" in broken.json()["detail"]
    extra = client.post("/v1/federation/node-keys", json={"public_key": make_node_key(tmp_path / "k"), "x": 1},
                        headers=auth)
    assert extra.status_code == 422
    _, op_token = principals.add_operator(ctx.factory, name="op", actor="test")
    as_operator = client.post("/v1/federation/node-keys", json={"public_key": make_node_key(tmp_path / "k2")},
                              headers={"Authorization": f"Bearer {op_token}"})
    assert as_operator.status_code == 403


def test_supernode_command_names_the_site_its_key_and_the_hub_ca(tmp_path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "manifest.json").write_text("{}")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "dataset.json").write_text("{}")
    make_node_key(tmp_path / "site.key")
    (tmp_path / "ca.crt").write_text("x")
    args = supernode_command(superlink="hub.example:9092", center="D", model=tmp_path / "model",
                             data=tmp_path / "data", key=tmp_path / "site.key", root_certificates=tmp_path / "ca.crt",
                             shots=2)
    assert args[:3] == ["flower-supernode", "--superlink", "hub.example:9092"]
    assert 'center="D"' in args[4] and "shots=2" in args[4]
    assert args[args.index("--auth-supernode-private-key") + 1] == str(tmp_path / "site.key")
    assert "--insecure" not in args
    with pytest.raises(FileNotFoundError, match="--key"):
        supernode_command(superlink="h:1", center="D", model=tmp_path / "model", data=tmp_path / "data",
                          key=tmp_path / "missing.key", root_certificates=None, shots=1)


def test_site_agent_federate_cli_prints_the_supernode_command_or_one_clear_error(tmp_path) -> None:
    from typer.testing import CliRunner

    from site_agent.cli import app

    for name in ("model", "data"):
        (tmp_path / name).mkdir()
    (tmp_path / "model" / "manifest.json").write_text("{}")
    (tmp_path / "data" / "dataset.json").write_text("{}")
    make_node_key(tmp_path / "site.key")
    runner = CliRunner()
    common = ["federate", "--key", str(tmp_path / "site.key"), "--superlink", "hub.example:9092", "--center", "D"]
    shown = runner.invoke(app, [*common, "--model", str(tmp_path / "model"), "--data", str(tmp_path / "data"),
                                "--dry-run"])
    assert shown.exit_code == 0, shown.output
    assert shown.output.startswith("flower-supernode --superlink hub.example:9092") and "--insecure" in shown.output
    missing = runner.invoke(app, common)
    assert missing.exit_code == 2 and "needs --model, --data and --superlink" in missing.output
    assert "Traceback" not in missing.output

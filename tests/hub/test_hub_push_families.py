"""Every registered family's tiny model publishes, and the hub accepts exactly its declared shareable groups.

The allowlist comes from the published manifest (the family's declaration), never from MoME-RO names:
a push of the shareable groups plus the site's own gate is accepted; a tensor of a group that never
leaves is refused, naming it.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from safetensors.torch import save

from hub.services.publish import publish
from hub.settings import HubSettings
from models.families import families
from models.registry import create_model
from models.weights import read_manifest, save_model_dir
from protocols.groups import router_group
from tests.hub.hubfake import push_form, push_manifest

TINY = sorted(f"{name}.tiny" for name in families())


@pytest.fixture
def settings(tmp_path: Path, db_url: str | None) -> HubSettings:
    # Real tiny models' experts are larger than the fake model's 64 KiB limit.
    return HubSettings(data_dir=tmp_path / "hub-data", db=db_url, max_push_bytes=64 * 1024 * 1024,
                       recommend_cache_s=0)


def _published(hub, tmp_path: Path, config: str):
    net, spec = create_model(config, centers=["A"])
    version = config.replace(".", "-") + "-1.0"
    model_dir = tmp_path / config
    save_model_dir(net, spec, model_dir, version=version)
    publish(factory=hub.ctx.factory, store=hub.ctx.store, signer=hub.ctx.signer, model_dir=model_dir, version=version)
    net.add_center("D", init_from="A")
    return net, spec, read_manifest(model_dir), version


def _payload(net, family, names: set[str]) -> bytes:
    state = net.state_dict()
    return save({n: state[n].detach().contiguous() + 0.01 for n in sorted(names)})


@pytest.mark.parametrize("config", TINY)
def test_shareable_groups_push_is_accepted(hub, tmp_path: Path, config: str) -> None:
    net, spec, manifest, version = _published(hub, tmp_path, config)
    fam = spec.family_info
    assert manifest.shareable_groups == fam.shareable_groups
    groups = {n: fam.tensor_group(n) for n in net.state_dict()}
    names = {n for n, g in groups.items() if g in fam.shareable_groups or g == router_group("D")}
    data = _payload(net, fam, names)
    r = hub.client.post("/v1/routers", files=push_form(data, push_manifest(
        data, "D", base_version=version, router_only=not fam.shareable_groups, family=spec.family)),
        headers=hub.auth(hub.site_d))
    assert r.status_code == 201, r.text
    artifact = hub.client.get(f"/v1/routers/{r.json()['router']['id']}/artifact", headers=hub.auth(hub.site_d))
    assert artifact.status_code == 200
    from safetensors.torch import load
    assert set(load(io.BytesIO(artifact.content).read())) == names


@pytest.mark.parametrize("config", TINY)
def test_a_group_that_never_leaves_is_refused(hub, tmp_path: Path, config: str) -> None:
    net, spec, _, version = _published(hub, tmp_path, config)
    fam = spec.family_info
    groups = {n: fam.tensor_group(n) for n in net.state_dict()}
    private = sorted(n for n, g in groups.items() if not g.startswith("router.") and g not in fam.shareable_groups)
    assert private, f"{config} declares no group that stays on site"
    names = {n for n, g in groups.items() if g == router_group("D")} | {private[0]}
    data = _payload(net, fam, names)
    r = hub.client.post("/v1/routers", files=push_form(data, push_manifest(
        data, "D", base_version=version, router_only=True, family=spec.family)), headers=hub.auth(hub.site_d))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "group_not_allowed" and r.json()["field"] == private[0]


def test_recommendations_follow_the_family_asked_for(hub, tmp_path: Path) -> None:
    other = next(n for n in TINY if not n.startswith("mome_ro."))
    _, _, _, version = _published(hub, tmp_path, other)  # newer than the fixture's MoME-RO 1.0
    fp = {"case_count": 5}

    def ask(**kw: object):
        return hub.client.post("/v1/recommendations", json={"fingerprint": fp, **kw}, headers=hub.auth(hub.site_d))

    assert ask().json()["model_version"] == version
    assert ask(family="mome_ro").json()["model_version"] == "1.0"
    assert ask(family=other.split(".")[0]).json()["model_version"] == version
    missing = ask(family="no_such_family")
    assert missing.status_code == 404 and missing.json()["field"] == "family"

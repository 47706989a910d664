"""Schemathesis against the app's own OpenAPI, as anonymous, site and operator: no 5xx, every answer documented."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from hub.app import create_app
from hub.services.principals import add_operator, add_site
from hub.services.publish import publish
from hub.settings import HubSettings
from tests.hub.hubfake import make_model_dir

BOUNDED = settings(max_examples=5, derandomize=True, deadline=None, database=None,
                   phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
"""A few derandomised examples per operation and principal keep the whole file reproducible and quick."""


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory):
    """A hub with published version 1.0 (routers A, B), a site token for A and an operator token."""
    tmp = tmp_path_factory.mktemp("schemathesis")
    app = create_app(HubSettings(data_dir=tmp / "hub-data", max_push_bytes=64 * 1024, recommend_cache_s=0))
    ctx = app.state.hub
    info = publish(factory=ctx.factory, store=ctx.store, signer=ctx.signer, version="1.0",
                   model_dir=make_model_dir(tmp / "model"))
    _, operator = add_operator(ctx.factory, name="ops", actor="test")
    site = add_site(ctx.factory, center="A", name="alpha", actor="test")
    spare = add_site(ctx.factory, center="B", name="spare", actor="test")  # the operator run may revoke it
    known = {"version": "1.0", "center": "A", "code": "A", "router_id": 1, "site_id": spare.site.id,
             "name": "moe.safetensors", "sha256": info.files[0].sha256}
    yield app, {"anonymous": None, "site": site.token, "operator": operator}, known
    ctx.factory.kw["bind"].dispose()


@pytest.fixture(scope="module")
def hub_schema(seeded):
    app, _, known = seeded
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)

    @schema.hook
    def flatmap_path_parameters(context, path_parameters):
        """About half the cases use ids that exist, so authenticated paths get past 404 to their real work."""
        if not path_parameters:
            return st.just(path_parameters)
        return st.sampled_from([path_parameters, {k: known.get(k, v) for k, v in path_parameters.items()}])

    return schema


api = schemathesis.pytest.from_fixture("hub_schema")


NOT_CHECKED = [positive_data_acceptance, negative_data_rejection]
"""Request-schema precision, not server behaviour: a schema-valid push can still fail its hash or tensor checks
(422), and unknown query parameters are ignored rather than refused."""


def _call_and_validate(case: schemathesis.Case, token: str | None) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    case.call_and_validate(headers=headers, excluded_checks=NOT_CHECKED)


# schemathesis' lazy schema takes no parametrised fixture: one test per principal
@api.parametrize()
@BOUNDED
def test_api_as_anonymous(case, seeded):
    _call_and_validate(case, seeded[1]["anonymous"])


@api.parametrize()
@BOUNDED
def test_api_as_site(case, seeded):
    _call_and_validate(case, seeded[1]["site"])


@api.parametrize()
@BOUNDED
def test_api_as_operator(case, seeded):
    _call_and_validate(case, seeded[1]["operator"])


def test_node_key_with_broken_base64_is_not_a_server_error(seeded):
    app = seeded[0]
    token = add_site(app.state.hub.factory, center="C", name="charlie", actor="test").token
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/v1/federation/node-keys", json={"public_key": "ecdsa-sha2-nistp256 AAAAA"},
                        headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")

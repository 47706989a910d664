"""Federation wire types round-trip through JSON and refuse what they must; the hub port is named, not imported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from federation.hub_port import open_hub_port
from federation.settings import FederationSettings
from protocols.federation import FederationRoundInfo, NodeKeyInfo, NodeKeyRegistration, RoundFailure, SiteRoundMetrics

KEY = "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBIc0UFMu"


@pytest.mark.parametrize("message", [
    NodeKeyRegistration(public_key=KEY),
    NodeKeyInfo(id=1, center="D", site_id=2, fingerprint="SHA256:" + "A" * 43, node_id=2**64 - 1, revoked=False,
                created_at=datetime(2026, 1, 1, tzinfo=UTC)),
    FederationRoundInfo(run="v1+fed.1", base_version="v1", round=2, aggregated=True, secagg=True, seconds=1.5,
                        bytes_to_sites=10, bytes_to_hub=20,
                        sites={"D": SiteRoundMetrics(cases=2, train_loss=0.5, val_dice=0.7, seconds=1.0)},
                        failures=[RoundFailure(node="7", center="E", reason="no reply within the round timeout")]),
])
def test_json_round_trip(message) -> None:
    assert type(message).model_validate_json(message.model_dump_json()) == message


def test_wire_types_refuse_bad_values() -> None:
    with pytest.raises(ValidationError):
        NodeKeyRegistration(public_key="ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ")
    with pytest.raises(ValidationError):
        NodeKeyRegistration(public_key=KEY + "\n" + KEY)
    with pytest.raises(ValidationError):
        SiteRoundMetrics(cases=1, train_loss=float("nan"))
    with pytest.raises(ValidationError):
        FederationRoundInfo(run="v", base_version="v", round=1, aggregated=True, seconds=1, bytes_to_sites=0,
                            bytes_to_hub=0, sites={"not a center": SiteRoundMetrics(cases=1)})


def test_the_hub_port_is_opened_by_name() -> None:
    with pytest.raises(ValueError, match="not set"):
        open_hub_port(FederationSettings(hub_data_dir="/h", version="v"))
    with pytest.raises(ValueError, match="module:attr"):
        open_hub_port(FederationSettings(hub_data_dir="/h", version="v", hub_port="nocolon"))
    settings = FederationSettings(hub_data_dir="/h", version="v", hub_port="builtins:repr")
    assert open_hub_port(settings) == repr(settings)  # the named factory, called with the run's settings

"""``hub federate --simulate``: the federation package's ServerApp and ClientApp on synthetic sites, in one process.

On a fresh hub data directory it builds what it needs: the hub with an untrained
``mome_ro.tiny`` base version (routers A and B), the sites enrolled on that hub, each with a
SuperNode key bound to it, and under ``sites/<code>/`` each site's synthetic cases (generator
presets, small and coarse) plus its local copy of the base version. ``hub versions list
--data-dir DIR`` then shows the draft and ``hub federate status --data-dir DIR`` the rounds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select

from federation.inprocess import MessageHook, run_inprocess
from federation.keys import make_node_key, public_key_path
from federation.server_app import run_federation
from federation.settings import FederationSettings
from hub.api.deps import HubContext
from hub.context import build_context
from hub.db.models import ModelVersion
from hub.federation.port import ACTOR, LocalHubPort, enrolled_centers
from hub.services import federation_nodes, principals
from hub.services.publish import publish
from hub.settings import HubSettings
from models.data.synthetic import generate_center
from models.registry import create_model
from models.weights import save_model_dir
from protocols.federation import NodeKeyRegistration

BASE_VERSION = "fed-base"
TINY_DATA = {"scale": 0.5, "spacing_override": (3.0, 3.0, 4.0)}
NODE_ID_BASE = 10_000  # simulated SuperLink node ids: NODE_ID_BASE + the key's row id


@dataclass(frozen=True)
class SimulatedSite:
    """One synthetic site: its center code (a generator preset), cases on disk and shots per round."""

    center: str
    cases: int = 3
    shots: int = 2


@dataclass
class SimulationResult:
    """The draft version the run produced and its per-round reports (as recorded in lineage)."""

    draft_version: str
    reports: list[dict]


@dataclass
class PreparedSite:
    """A simulated site ready to run: its ClientApp node config and the node id its key is bound to."""

    node_config: dict
    node_id: int


def _bind_key(ctx: HubContext, center: str, site_id: int | None, key_path: Path, *, simulated: bool) -> int:
    """Register the site's SuperNode key (made once); bind it to a made-up node id if ``simulated``; return the id."""
    if not key_path.is_file():
        make_node_key(key_path)
    if site_id is None:
        with ctx.factory() as s:
            site_id = next(x.id for x in principals.list_sites(s, center=center) if not x.revoked)
    body = NodeKeyRegistration(public_key=public_key_path(key_path).read_text().strip())
    info = federation_nodes.register_key(ctx.factory, site_id=site_id, body=body, actor=ACTOR)
    if info.node_id is None and simulated:
        info = federation_nodes.set_node_id(ctx.factory, key_id=info.id, node_id=NODE_ID_BASE + info.id, actor=ACTOR)
    return int(info.node_id or 0)


def prepare(data_dir: Path, sites: list[SimulatedSite], *, config_name: str = "mome_ro.tiny",
            bind_simulated_nodes: bool = True) -> dict[str, PreparedSite]:
    """Create (once) the hub, its base version, the enrolments and each site's data and key.

    With ``bind_simulated_nodes`` each site's key is bound to a made-up node id (the in-process
    engine's); without, the keys wait for a real SuperLink to assign ids (``hub federate``).
    """
    ctx = build_context(HubSettings(data_dir=data_dir))
    with ctx.factory() as s:
        has_base = s.scalar(select(ModelVersion.id).where(ModelVersion.version == BASE_VERSION)) is not None
    if not has_base:
        model, spec = create_model(config_name, centers=["A", "B"])
        out = data_dir / "federation" / BASE_VERSION
        save_model_dir(model, spec, out, version=BASE_VERSION, overwrite=True)
        publish(factory=ctx.factory, store=ctx.store, signer=ctx.signer, model_dir=out, version=BASE_VERSION,
                notes="untrained base for federation demos", actor=ACTOR)
    enrolled = enrolled_centers(ctx)
    port = LocalHubPort(ctx)
    prepared = {}
    for site in sites:
        site_id = None
        if site.center not in enrolled:
            site_id = principals.add_site(ctx.factory, center=site.center, name=f"simulated {site.center}",
                                          actor=ACTOR).site.id
        root = data_dir / "sites" / site.center
        node_id = _bind_key(ctx, site.center, site_id, root / "node.key", simulated=bind_simulated_nodes)
        if not (root / "data" / "dataset.json").is_file():
            generate_center(site.center, site.cases, root / "data", seed=7, overwrite=True, **TINY_DATA)
        if not (root / "model" / "manifest.json").is_file():
            port.materialise_version(BASE_VERSION, root / "model")
        config = {"center": site.center, "model-dir": str(root / "model"), "data-dir": str(root / "data"),
                  "shots": site.shots, "seed": 0}
        prepared[site.center] = PreparedSite(config, node_id)
    return prepared


def simulate(data_dir: Path, sites: list[SimulatedSite], settings: FederationSettings | None = None, *,
             on_message: MessageHook | None = None, client_app=None,  # noqa: ANN001
             config_name: str = "mome_ro.tiny") -> SimulationResult:
    """Prepare ``data_dir`` and run the federation in process; ``settings.version`` defaults to the base."""
    nodes = prepare(data_dir, sites, config_name=config_name)
    base = settings or FederationSettings(hub_data_dir="", version=BASE_VERSION, min_sites=len(sites))
    settings = replace(base, hub_data_dir=str(data_dir), version=base.version or BASE_VERSION)
    if client_app is None:
        from federation.client_app import app as client_app
    port = LocalHubPort(build_context(HubSettings(data_dir=data_dir)))
    outcomes = []

    def server(grid, context) -> None:  # noqa: ANN001 - the ServerApp's main, with this hub's port handed in
        outcomes.append(run_federation(grid, settings, context.run_id, port))

    run_inprocess(server, client_app, [n.node_config for n in nodes.values()], settings.to_run_config(),
                  on_message=on_message, node_ids=[n.node_id for n in nodes.values()])
    outcome = outcomes[0]
    reports = json.loads(json.dumps([r.__dict__ for r in outcome.reports]))
    return SimulationResult(outcome.draft_version, reports)

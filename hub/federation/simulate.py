"""``hub federate --simulate``: the same ServerApp and ClientApp on synthetic sites, in one process.

On a fresh hub data directory it builds what it needs: the hub with an untrained
``mome_ro.tiny`` base version (routers A and B), the sites enrolled on that hub, and under
``sites/<code>/`` each site's synthetic cases (generator presets, small and coarse) plus its
local copy of the base version. ``hub versions list --data-dir DIR`` then shows the draft.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select

from hub.context import build_context
from hub.db.models import ModelVersion
from hub.federation.hub_io import ACTOR, enrolled_centers, materialise_version
from hub.federation.inprocess import MessageHook, run_inprocess
from hub.federation.server_app import OUTCOME
from hub.federation.server_app import app as server_app
from hub.federation.settings import FederationSettings
from hub.services import principals
from hub.services.publish import publish
from hub.settings import HubSettings
from models.data.synthetic import generate_center
from models.registry import create_model
from models.weights import save_model_dir

BASE_VERSION = "fed-base"
TINY_DATA = {"scale": 0.5, "spacing_override": (3.0, 3.0, 4.0)}


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


def prepare(data_dir: Path, sites: list[SimulatedSite], *, config_name: str = "mome_ro.tiny") -> dict[str, dict]:
    """Create (once) the hub, its base version, the enrolments and each site's data; return node configs."""
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
    nodes = {}
    for site in sites:
        if site.center not in enrolled:
            principals.add_site(ctx.factory, center=site.center, name=f"simulated {site.center}", actor=ACTOR)
        root = data_dir / "sites" / site.center
        if not (root / "data" / "dataset.json").is_file():
            generate_center(site.center, site.cases, root / "data", seed=7, overwrite=True, **TINY_DATA)
        if not (root / "model" / "manifest.json").is_file():
            materialise_version(ctx, BASE_VERSION, root / "model")
        nodes[site.center] = {"center": site.center, "model-dir": str(root / "model"),
                              "data-dir": str(root / "data"), "shots": site.shots, "seed": 0}
    return nodes


def simulate(data_dir: Path, sites: list[SimulatedSite], settings: FederationSettings | None = None, *,
             on_message: MessageHook | None = None, client_app=None,
             config_name: str = "mome_ro.tiny") -> SimulationResult:
    """Prepare ``data_dir`` and run the federation in process; ``settings.version`` defaults to the base."""
    nodes = prepare(data_dir, sites, config_name=config_name)
    base = settings or FederationSettings(hub_data_dir="", version=BASE_VERSION, min_sites=len(sites))
    settings = replace(base, hub_data_dir=str(data_dir), version=base.version or BASE_VERSION)
    if client_app is None:
        from site_agent.federate import app as client_app
    context = run_inprocess(server_app, client_app, list(nodes.values()), settings.to_run_config(),
                            on_message=on_message)
    outcome = context.state[OUTCOME]
    return SimulationResult(str(outcome["draft-version"]), json.loads(str(outcome["reports"])))

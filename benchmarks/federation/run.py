"""Federated rounds over the experts: bytes per round per site against the whole model, SecAgg+ overhead, and a
real Flower deployment on loopback.

Default mode, in process (federation/inprocess.py), synthetic sites:
  * plain FedAvg, 2 sites, 2 rounds, for mome_ro.tiny and mome_ro.small: rounds per minute and the
    bytes each site sends/receives per round against the bytes of the whole network it holds;
  * SecAgg+ against plain FedAvg, mome_ro.tiny and mome_ro.small, 2 and 4 sites: seconds per round (whole,
    and "protocol": the round minus the sites' own training time, which a busy machine makes noisy)
    and bytes per round. Bytes
    are message payloads (tensors plus the byte strings SecAgg+ puts in its configs: masked
    vectors, key shares, public keys), per site and round, both directions.
``--deployment``: the same federation as the deployment test (hub/federation/loopback.py): a TLS
SuperLink with SuperNode authentication, SuperNodes for D and E, 2 rounds through ``hub federate``;
prints the draft version it made and exits 0 on success (add ``--secagg`` for SecAgg+ there too).

    python benchmarks/federation/run.py
    python benchmarks/federation/run.py --deployment [--secagg]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.machine import machine_info  # noqa: E402
from federation.secagg import payload_bytes  # noqa: E402
from federation.settings import FederationSettings  # noqa: E402
from hub.federation.simulate import SimulatedSite, simulate  # noqa: E402
from models.groups import parameter_counts  # noqa: E402
from models.registry import create_model  # noqa: E402

CONFIGS = {"mome_ro.tiny": 5, "mome_ro.small": 1}  # local steps per round
ROUNDS = 2
PRESETS = ["D", "E", "C", "B"]


def _sites(n: int) -> list[SimulatedSite]:
    return [SimulatedSite(code, cases=3, shots=2) for code in PRESETS[:n]]


def federate(config: str, n_sites: int, local_steps: int, *, secagg: bool) -> dict:
    """One federation in a fresh hub; per round: seconds (hub-side) and payload bytes each way per site."""
    up: dict[int, int] = {}
    down: dict[int, int] = {}

    def hook(direction: str, msg) -> None:
        side = down if direction == "to-site" else up
        node = msg.metadata.dst_node_id if direction == "to-site" else msg.metadata.src_node_id
        side[node] = side.get(node, 0) + payload_bytes(msg)

    work = Path(tempfile.mkdtemp(prefix=f"fed-{config}-"))
    try:
        settings = FederationSettings(hub_data_dir="", version="fed-base", rounds=ROUNDS, min_sites=n_sites,
                                      local_steps=local_steps, secagg=secagg)
        result = simulate(work, _sites(n_sites), settings, on_message=hook, config_name=config)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    seconds = [r["seconds"] for r in result.reports]
    # The round minus the sites' own work (sites run one after another in process): what the protocol costs.
    protocol = [r["seconds"] - sum(m.get("seconds", 0.0) for m in r["sites"].values()) for r in result.reports]
    return {"config": config, "sites": n_sites, "rounds": ROUNDS, "local_steps": local_steps, "secagg": secagg,
            "seconds_per_round": round(statistics.mean(seconds), 2),
            "protocol_seconds_per_round": round(statistics.mean(protocol), 3),
            "bytes_per_round_per_site": {"to_site": round(statistics.mean(down.values()) / ROUNDS),
                                         "to_hub": round(statistics.mean(up.values()) / ROUNDS)}}


def experts_share(config: str, measured: dict) -> dict:
    """The bytes a site sends per round against every tensor of the network it holds (a naive FedAvg's message)."""
    model, _ = create_model(config, centers=["A", "B", "D"])
    whole = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    counts = parameter_counts(model)
    sent = measured["bytes_per_round_per_site"]["to_hub"]
    return {"whole_model_bytes": whole, "fraction_of_whole_model": round(sent / whole, 4),
            "experts_values": counts.get("experts", 0), "all_values": sum(counts.values()),
            "rounds_per_minute": round(60 / measured["seconds_per_round"], 3)}


def secagg_overhead(plain: dict, secure: dict) -> dict:
    """SecAgg+ against plain FedAvg: ratios of seconds and of bytes per round per site."""
    p, s = plain["bytes_per_round_per_site"], secure["bytes_per_round_per_site"]
    return {"config": plain["config"], "sites": plain["sites"],
            "seconds_per_round": {"fedavg": plain["seconds_per_round"], "secagg": secure["seconds_per_round"],
                                  "ratio": round(secure["seconds_per_round"] / plain["seconds_per_round"], 3)},
            "protocol_seconds_per_round": {"fedavg": plain["protocol_seconds_per_round"],
                                           "secagg": secure["protocol_seconds_per_round"]},
            "bytes_per_round_per_site": {"fedavg": p, "secagg": s,
                                         "ratio_to_site": round(s["to_site"] / p["to_site"], 3),
                                         "ratio_to_hub": round(s["to_hub"] / p["to_hub"], 3)}}


def run_in_process() -> None:
    results, overhead = [], []
    for config, steps in CONFIGS.items():
        measured = federate(config, 2, steps, secagg=False)
        results.append({**measured, **experts_share(config, measured)})
        print(json.dumps(results[-1]), flush=True)
    for config in ("mome_ro.tiny", "mome_ro.small"):
        for n in (2, 4):
            plain = federate(config, n, 1, secagg=False)
            secure = federate(config, n, 1, secagg=True)
            overhead.append(secagg_overhead(plain, secure))
            print(json.dumps(overhead[-1]), flush=True)
    out = {"machine": machine_info(), "engine": "in-process Grid (no Ray)", "results": results,
           "secagg_overhead": overhead}
    (HERE / "results.json").write_text(json.dumps(out, indent=2) + "\n")


def run_deployment(secagg: bool) -> int:
    """The loopback deployment; print its timings and the draft version; 0 on success, 1 with the logs otherwise."""
    from hub.federation.loopback import LoopbackError, run_loopback

    work = Path(tempfile.mkdtemp(prefix="fed-deployment-"))
    try:
        result = run_loopback(work, [SimulatedSite("D", 2, 1), SimulatedSite("E", 2, 1)], rounds=2, local_steps=1,
                              secagg=secagg, timeout=300)
    except LoopbackError as err:
        print(f"deployment failed: {err}", file=sys.stderr)
        return 1
    from hub.context import build_context
    from hub.services.federation_rounds import list_rounds
    from hub.settings import HubSettings

    with build_context(HubSettings(data_dir=result.hub_dir)).factory() as session:
        rounds = [r.model_dump(mode="json", include={"round", "seconds", "bytes_to_sites", "bytes_to_hub", "sites"})
                  for r in list_rounds(session, run=result.draft_version)]
    out = {"machine": machine_info(), "secagg": secagg, "seconds": result.seconds, "rounds": rounds}
    name = "results_deployment_secagg.json" if secagg else "results_deployment.json"
    (HERE / name).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out), flush=True)
    print(f"draft version: {result.draft_version} (hub data: {result.hub_dir}; "
          f"`hub federate status --data-dir {result.hub_dir}` shows its rounds)")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deployment", action="store_true", help="run on a real SuperLink and SuperNodes")
    parser.add_argument("--secagg", action="store_true", help="with --deployment: use SecAgg+")
    args = parser.parse_args()
    if args.deployment:
        raise SystemExit(run_deployment(args.secagg))
    run_in_process()


if __name__ == "__main__":
    main()

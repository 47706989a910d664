"""Federated rounds over the experts: rounds per minute, and bytes per round per site against the whole model.

Two synthetic sites (D, E), two FedAvg rounds, in process (hub/federation/inprocess.py), for
mome_ro.tiny and mome_ro.small (few local steps). Bytes are the ArrayRecord payloads of the
messages (what Flower serialises), each way, per site and round; "whole model" is every tensor
of the network a site holds (shared weights plus its router), as a naive FedAvg would send.

    python benchmarks/federation/run.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.machine import machine_info  # noqa: E402
from hub.federation.settings import FederationSettings  # noqa: E402
from hub.federation.simulate import SimulatedSite, simulate  # noqa: E402
from models.groups import parameter_counts  # noqa: E402
from models.registry import create_model  # noqa: E402

CONFIGS = {"mome_ro.tiny": 5, "mome_ro.small": 1}  # local steps per round
ROUNDS, SITES = 2, [SimulatedSite("D", cases=3, shots=2), SimulatedSite("E", cases=3, shots=2)]


def measure(config: str, local_steps: int, work: Path) -> dict:
    """One federation; time from the first message of round 1 to the last reply of the last round."""
    stamps: list[float] = []
    down: list[int] = []
    up: list[int] = []

    def hook(direction: str, msg) -> None:
        stamps.append(time.perf_counter())
        if msg.has_content():
            size = sum(r.count_bytes() for r in msg.content.array_records.values())
            (down if direction == "to-site" else up).append(size)

    settings = FederationSettings(hub_data_dir="", version="fed-base", rounds=ROUNDS, min_sites=len(SITES),
                                  local_steps=local_steps)
    simulate(work, SITES, settings, on_message=hook, config_name=config)
    model, _ = create_model(config, centers=["A", "B", "D"])
    whole = sum(t.numel() * t.element_size() for t in model.state_dict().values())
    seconds = stamps[-1] - stamps[0]
    counts = parameter_counts(model)
    return {
        "config": config, "sites": len(SITES), "rounds": ROUNDS, "local_steps": local_steps,
        "seconds": round(seconds, 2), "rounds_per_minute": round(60 * ROUNDS / seconds, 3),
        "bytes_per_round_per_site": {"to_site": max(down), "to_hub": max(up)},
        "whole_model_bytes": whole, "fraction_of_whole_model": round(max(up) / whole, 4),
        "experts_values": counts.get("experts", 0), "all_values": sum(counts.values()),
    }


def main() -> None:
    results = []
    for config, steps in CONFIGS.items():
        work = Path(tempfile.mkdtemp(prefix=f"fed-{config}-"))
        try:
            results.append(measure(config, steps, work))
            print(json.dumps(results[-1]), flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    out = {"machine": machine_info(), "engine": "in-process Grid (no Ray)", "results": results}
    (HERE / "results.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

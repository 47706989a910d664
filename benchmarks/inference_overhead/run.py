"""Inference overhead of MoME-RO against the plain MONAI U-Net of the same channels.

Both run on the same input, interleaved round by round so that machine load hits both
alike; the ratio of median times is reported. Text embeddings are cached (precomputed),
as in deployment. Also reports parameters per group and the bytes a push would send.

    python benchmarks/inference_overhead/run.py [--config mome_ro.small] [--rounds 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from monai.networks.nets import UNet

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from benchmarks.machine import machine_info  # noqa: E402
from models.groups import parameter_counts  # noqa: E402
from models.registry import build_network, get_spec  # noqa: E402
from models.weights import save_model_dir  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="mome_ro.small")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args()
    spec = get_spec(args.config)
    a = spec.architecture
    centers = ["A", "B", "C"]
    unet = UNet(spatial_dims=3, in_channels=len(spec.contract.channels), out_channels=2, channels=a["channels"],
                strides=a["strides"], num_res_units=a["num_res_units"]).to(args.device).eval()
    variants = {
        "mome": build_network(spec, method="mome", centers=centers),
        "mome_all_levels": build_network(spec.__class__(**{**spec.__dict__, "architecture": {
            **a, "fused_levels": None}}), method="mome", centers=centers),
        "multimodal": build_network(spec, method="multimodal", centers=centers),
    }
    x = torch.rand(1, len(spec.contract.channels), *spec.contract.patch_size, device=args.device)
    text = torch.randn(1, 40, a["text_dim"], device=args.device)
    mask = torch.ones(1, 40, dtype=torch.bool, device=args.device)
    times: dict[str, list[float]] = {"unet": [], **{k: [] for k in variants}}
    with torch.inference_mode():
        for net in variants.values():
            net.to(args.device).eval()
            net(x, text, mask, "A")
        unet(x)
        for _ in range(args.rounds):
            times["unet"].append(timed(lambda: unet(x)))
            for name, net in variants.items():
                times[name].append(timed(lambda net=net: net(x, text, mask, "A")))
    median = {k: statistics.median(v) for k, v in times.items()}
    model = variants["mome"].cpu()
    with tempfile.TemporaryDirectory() as tmp:
        manifest = save_model_dir(model, spec, Path(tmp) / "m", version="bench")
        sizes = {f.name: f.size for f in manifest.files}
    total = sum(sizes.values())
    shareable = sizes["experts.safetensors"] + sizes["router.A.safetensors"]
    result = {
        "machine": machine_info(), "device": args.device, "config": args.config, "input": list(x.shape),
        "rounds": args.rounds, "fused_levels": list(model.fused_levels),
        "median_seconds": median,
        "ratio_vs_unet": {k: median[k] / median["unet"] for k in variants},
        "target_ratio": 1.15,
        "parameters_per_group": parameter_counts(model),
        "bytes": {"model": total, "experts_plus_router": shareable, "router_only": sizes["router.A.safetensors"],
                  "experts_plus_router_fraction": shareable / total,
                  "router_only_fraction": sizes["router.A.safetensors"] / total},
    }
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: round(v, 3) for k, v in result["ratio_vs_unet"].items()}), result["bytes"])


if __name__ == "__main__":
    main()

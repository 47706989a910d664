"""Hub load benchmark: ``python benchmarks/hub_load/run.py`` -> benchmarks/hub_load/results.json.

Starts ``hub serve`` (uvicorn subprocess) on 127.0.0.1 with 100 centers registered, measures
recommendation requests/s and p50/p99 latency at 1, 16 and 64 concurrent clients (a fixed number of
requests each), then streams a 1 GB artifact and records the server's resident-memory growth.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from loadgen import build_request, run  # noqa: E402
from setup_hub import prepare  # noqa: E402


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def download(base: str, token: str, sha: str, pid: int) -> dict:
    before, peak, done = rss_kib(pid), rss_kib(pid), threading.Event()

    def poll() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kib(pid))
            time.sleep(0.02)

    t = threading.Thread(target=poll)
    t.start()
    n, t0 = 0, time.perf_counter()
    with httpx.stream("GET", f"{base}/v1/blobs/{sha}", headers={"Authorization": f"Bearer {token}"},
                      timeout=120) as r:
        for chunk in r.iter_raw(1 << 20):
            n += len(chunk)
    wall = time.perf_counter() - t0
    done.set()
    t.join()
    return {"bytes": n, "seconds": round(wall, 3), "mb_per_s": round(n / wall / 1e6, 1),
            "server_rss_before_mib": round(before / 1024, 1), "server_rss_peak_mib": round(peak / 1024, 1),
            "server_rss_growth_mib": round((peak - before) / 1024, 1),
            "server_vmhwm_mib": round(rss_kib(pid, "VmHWM") / 1024, 1)}


def loop_impl() -> str:
    try:
        import httptools  # noqa: F401
        import uvloop  # noqa: F401

        return "uvloop+httptools"
    except ImportError:
        return "asyncio+h11"


def machine() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "cpu_affinity": len(os.sched_getaffinity(0)), "processor": platform.processor() or platform.machine(),
            "loadavg_at_start": os.getloadavg()}


def measure(data: Path, info: dict, workers: int, requests: int, download_too: bool) -> dict:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--data-dir", str(data), "--port", str(port),
                             "--workers", str(workers), "--log-level", "warning"], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        time.sleep(1.0 if workers > 1 else 0)
        request = build_request("/v1/recommendations", info["token"], {"fingerprint": info["fingerprint"], "limit": 5},
                                port)
        out = {"server": f"hub serve --workers {workers} (SQLite, {loop_impl()})",
               "recommendations": [run(port, request, c, requests) for c in (1, 16, 64)]}
        if download_too:
            out["download"] = download(base, info["token"], info["blob_sha256"], proc.pid)
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=3000, help="recommendation requests per concurrency level")
    ap.add_argument("--centers", type=int, default=100)
    ap.add_argument("--blob-mb", type=int, default=1024)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="uvicorn worker counts to measure")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "hub-data"
        info = prepare(data, args.centers, args.blob_mb * 1024 * 1024)
        runs = [measure(data, info, w, args.requests, download_too=(w == args.workers[0])) for w in args.workers]
    result = {"machine": machine(), "centers": args.centers, "runs": runs,
              "targets": {"rps_at_64": 1000, "p99_ms_at_64": 20, "rss_growth_mib": 100},
              "load_generator": "benchmarks/hub_load/loadgen.py: keep-alive HTTP/1.1 on asyncio streams, same host"}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

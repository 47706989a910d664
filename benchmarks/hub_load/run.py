"""Hub load benchmark: ``python benchmarks/hub_load/run.py`` -> benchmarks/hub_load/results.json.

In one run, for 10, 100 and 1,000 registered centers: a hub (uvicorn, 1 worker, as ``hub serve`` runs it) pinned
to core 0 and the load generator pinned to core 1 measure a constant-JSON route on the same app and
``POST /v1/recommendations`` at 1, 16 and 64 clients (closed loop; wrk when installed), then recommendations in
an open loop at a fixed rate (p99 from each request's scheduled start). Then, with 100 centers, 2 workers on both
cores (the load generator shares core 1) and a 1 GB artifact download with the server's memory growth.
Takes about 5 minutes with the defaults; ``--quick`` about 1 minute (not for the record).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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

from bench_app import CONSTANT_PATH  # noqa: E402
from loadgen import build_request, closed, open_loop, wrk_available, wrk_closed  # noqa: E402
from setup_hub import prepare  # noqa: E402

from benchmarks.machine import machine_info  # noqa: E402

SERVER_CPU, CLIENT_CPU = 0, 1
TARGETS = {"recommend_vs_trivial_at_16_and_64": 0.5, "two_core_requests_per_s": 1000, "open_loop_p99_ms": 20,
           "flat_10_to_1000_centers_max_ratio": 1.3}


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


class Server:
    """``uvicorn --factory bench_app:from_env`` (the hub app plus the constant route), optionally pinned."""

    def __init__(self, data: Path, workers: int, cpus: str | None) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        pin = ["taskset", "-c", cpus] if cpus and shutil.which("taskset") else []
        self.pinned = bool(pin)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]), "MOME_HUB_DATA_DIR": str(data)}
        self.proc = subprocess.Popen([*pin, sys.executable, "-m", "uvicorn", "--factory", "bench_app:from_env",
                                      "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
                                      "--log-level", "warning"], cwd=ROOT, env=env)
        for _ in range(600):
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("the hub did not start")
        time.sleep(1.0 if workers > 1 else 0.2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


def measure_closed(server: Server, info: dict, clients: tuple[int, ...], seconds: float,
                   use_wrk: bool) -> dict[str, list[dict]]:
    """The constant route and the recommendation at each client count, one after the other."""
    body = json.dumps({"fingerprint": info["fingerprint"], "limit": 5}).encode()
    cases = {"trivial": ("GET", CONSTANT_PATH, b""), "recommend": ("POST", "/v1/recommendations", body)}
    out: dict[str, list[dict]] = {name: [] for name in cases}
    for c in clients:
        for name, (method, path, payload) in cases.items():
            if use_wrk:
                out[name].append(wrk_closed(server.base + path, method, info["token"], payload, c, seconds,
                                            CLIENT_CPU))
            else:
                out[name].append(closed(server.port, build_request(method, path, info["token"], payload,
                                                                   server.port), c, seconds))
    return out


def ratios(run: dict) -> dict[str, float | None]:
    return {f"recommend_vs_trivial_at_{t['clients']}": (round(r["requests_per_s"] / t["requests_per_s"], 3)
                                                         if r["requests_per_s"] and t["requests_per_s"] else None)
            for t, r in zip(run["trivial"], run["recommend"], strict=True)}


def one_center_count(n: int, args: argparse.Namespace, tmp: Path, use_wrk: bool) -> dict:
    data = tmp / f"hub-{n}"
    blob = args.blob_mb * 1024 * 1024 if (n == 100 and args.blob_mb) else 1 << 20
    info = prepare(data, n, blob)
    server = Server(data, 1, str(SERVER_CPU))
    try:
        run = {"centers": n, "workers": 1, "server_pinned_to_cpu": SERVER_CPU if server.pinned else None,
               **measure_closed(server, info, tuple(args.clients), args.seconds, use_wrk)}
        body = json.dumps({"fingerprint": info["fingerprint"], "limit": 5}).encode()
        request = build_request("POST", "/v1/recommendations", info["token"], body, server.port)
        run["recommend_open_loop"] = open_loop(server.port, request, args.open_rate, args.open_seconds)
        run["ratios"] = ratios(run)
        if n == 100 and args.blob_mb:
            run["download"] = download(server.base, info["token"], info["blob_sha256"], server.proc.pid)
    finally:
        server.stop()
    if n == 100 and args.two_workers:
        two = Server(data, 2, None)
        try:
            run["two_workers_both_cores"] = measure_closed(two, info, (64,), args.seconds, use_wrk)
        finally:
            two.stop()
    return run


def summary(runs: list[dict]) -> dict:
    by = {r["centers"]: r for r in runs}
    out: dict[str, object] = {}
    for key in ("recommend_vs_trivial_at_16", "recommend_vs_trivial_at_64"):
        out[key] = {n: r["ratios"].get(key) for n, r in by.items()}
    out["open_loop_p99_ms"] = {n: r["recommend_open_loop"]["p99_ms"] for n, r in by.items()}
    if 10 in by and 1000 in by:
        out["flat_10_to_1000_centers_rps_ratio_at_64"] = round(
            by[10]["recommend"][-1]["requests_per_s"] / by[1000]["recommend"][-1]["requests_per_s"], 3)
    if 100 in by and "two_workers_both_cores" in by[100]:
        out["two_core_recommend_rps_at_64"] = by[100]["two_workers_both_cores"]["recommend"][0]["requests_per_s"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--centers", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 16, 64])
    ap.add_argument("--seconds", type=float, default=5.0, help="duration of each closed-loop measurement")
    ap.add_argument("--open-rate", type=float, default=1000.0, help="open-loop requests per second")
    ap.add_argument("--open-seconds", type=float, default=10.0)
    ap.add_argument("--blob-mb", type=int, default=1024, help="artifact size for the download test (0: skip)")
    ap.add_argument("--no-two-workers", dest="two_workers", action="store_false",
                    help="skip the 2-worker measurement on both cores")
    ap.add_argument("--python-client", action="store_true", help="use the Python closed loop even if wrk exists")
    ap.add_argument("--quick", action="store_true", help="10 and 100 centers, 2 s each, no download: a smoke run")
    ap.add_argument("--out", type=Path, default=HERE / "results.json")
    args = ap.parse_args()
    if args.quick:
        args.centers, args.seconds, args.open_seconds, args.blob_mb = [10, 100], 2.0, 3.0, 0
    use_wrk = wrk_available() and not args.python_client
    pinned = (os.cpu_count() or 1) >= 2
    if pinned:
        os.sched_setaffinity(0, {CLIENT_CPU})  # this process (Python load generator, setup) stays off the hub's core
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [one_center_count(n, args, Path(tmp), use_wrk) for n in args.centers]
    result = {"machine": {**machine_info(), "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
                          "http": loop_impl(), "pinned": pinned},
              "load_generator": ("wrk -t1 (closed loop), " if use_wrk else "")
              + "benchmarks/hub_load/loadgen.py (asyncio; open loop" + ("" if use_wrk else ", closed loop") + ")",
              "server": "uvicorn 1 worker = hub serve's defaults, SQLite; trivial = GET " + CONSTANT_PATH,
              "seconds_total": round(time.time() - started, 1), "summary": summary(runs), "targets": TARGETS,
              "runs": runs}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"], indent=2))


if __name__ == "__main__":
    main()

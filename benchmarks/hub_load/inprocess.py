"""CPU per request inside the process (no sockets): the hub's ASGI app called directly, trivial vs recommendation.

``python benchmarks/hub_load/inprocess.py --centers 100`` prints microseconds of CPU per request for a constant-JSON
route on the same app (same middleware) and for ``POST /v1/recommendations``; add ``--profile`` to write a
cProfile listing of the recommendation requests to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from bench_app import CONSTANT_PATH, create_bench_app  # noqa: E402
from setup_hub import prepare  # noqa: E402


def _scope(method: str, path: str, token: str, body: bytes) -> dict:
    headers = [(b"host", b"hub"), (b"authorization", f"Bearer {token}".encode()),
               (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8700)}


async def _call(app, scope: dict, body: bytes) -> int:
    status = 0
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _measure(app, scope: dict, body: bytes, n: int, rounds: int = 5) -> float:
    """Best of ``rounds`` rounds of ``n`` requests (the least disturbed by other work on the machine)."""
    for _ in range(20):
        assert await _call(app, scope, body) == 200
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        for _ in range(n):
            await _call(app, scope, body)
        best = min(best, (time.process_time() - t0) / n * 1e6)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--centers", type=int, default=100)
    ap.add_argument("--requests", type=int, default=1000, help="requests per round (best of 5 rounds)")
    ap.add_argument("--profile", action="store_true", help="print the top of a cProfile of the recommendation loop")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        info = prepare(Path(tmp) / "hub-data", args.centers, 1 << 20)
        app = create_bench_app(Path(tmp) / "hub-data")
        body = json.dumps({"fingerprint": info["fingerprint"], "limit": 5}).encode()
        rec = _scope("POST", "/v1/recommendations", info["token"], body)
        const = _scope("GET", CONSTANT_PATH, info["token"], b"")
        out = {"centers": args.centers,
               "trivial_cpu_us": round(asyncio.run(_measure(app, const, b"", args.requests)), 1),
               "recommend_cpu_us": round(asyncio.run(_measure(app, rec, body, args.requests)), 1)}
        print(json.dumps(out))
        if args.profile:
            prof = cProfile.Profile()
            prof.enable()
            asyncio.run(_measure(app, rec, body, args.requests, rounds=1))
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()

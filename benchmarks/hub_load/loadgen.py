"""Load generators: a keep-alive HTTP/1.1 client on asyncio streams (closed and open loop), and a wrk driver.

Closed loop (``closed``): ``clients`` connections, each sends its next request when the previous answer is in;
measures throughput. Open loop (``open_loop``): requests start on a fixed schedule whatever the server does, and each
latency counts from the request's scheduled start, so a stalled server shows in p99 (no coordinated omission).
``wrk_closed`` runs wrk (C, far cheaper per request than Python) for the closed loop when it is installed.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def build_request(method: str, path: str, token: str, body: bytes, port: int) -> bytes:
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            + (f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body else "") + "\r\n")
    return head.encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> bool:
    """Send one request, read the whole answer; True on 200."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return head[9:12] == b"200"


def _summary(latencies: list[float], errors: int, wall: float, **extra: object) -> dict:
    latencies.sort()

    def pct(q: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2) if latencies else None

    return {**extra, "requests": len(latencies), "errors": errors, "seconds": round(wall, 3),
            "requests_per_s": round(len(latencies) / wall, 1), "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "max_ms": pct(1.0)}


async def _closed(port: int, request: bytes, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = [0]
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while (t0 := time.perf_counter()) < deadline:
                ok = await _exchange(reader, writer, request)
                latencies.append(time.perf_counter() - t0)
                errors[0] += not ok
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(clients)))
    return _summary(latencies, errors[0], time.perf_counter() - t0, clients=clients, tool="python-asyncio")


async def _open(port: int, request: bytes, rate: float, seconds: float, connections: int) -> dict:
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    latencies: list[float] = []
    errors, waited = [0], [0]

    async def one(scheduled: float) -> None:
        if pool.empty():
            waited[0] += 1  # every connection busy: the wait counts in this request's latency
        reader, writer = await pool.get()
        try:
            errors[0] += not await _exchange(reader, writer, request)
        finally:
            pool.put_nowait((reader, writer))
        latencies.append(time.perf_counter() - scheduled)

    start, tasks, n = time.perf_counter(), [], int(rate * seconds)
    for i in range(n):
        scheduled = start + i / rate
        if (delay := scheduled - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(scheduled)))
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait()[1].close()
    return _summary(latencies, errors[0], wall, target_rate=rate, connections=connections,
                    waited_for_connection=waited[0], tool="python-asyncio open loop")


def _run(coro_fn, *args: object) -> dict:
    try:
        import uvloop

        return uvloop.run(coro_fn(*args))
    except ImportError:
        return asyncio.run(coro_fn(*args))


def closed(port: int, request: bytes, clients: int, seconds: float) -> dict:
    """Closed loop for ``seconds`` over ``clients`` keep-alive connections (after a short warm-up)."""
    _run(_closed, port, request, 1, 0.3)
    return _run(_closed, port, request, clients, seconds)


def open_loop(port: int, request: bytes, rate: float, seconds: float, connections: int = 64) -> dict:
    """``rate`` requests per second for ``seconds``, started on schedule, over at most ``connections``."""
    return _run(_open, port, request, rate, seconds, connections)


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk_closed(url: str, method: str, token: str, body: bytes, clients: int, seconds: float,
               cpu: int | None) -> dict:
    """wrk with one thread and ``clients`` connections, pinned to ``cpu``; parses rps, p50, p99, errors."""
    lua = (f'wrk.method = "{method}"\nwrk.headers["Authorization"] = "Bearer {token}"\n'
           + (f'wrk.headers["Content-Type"] = "application/json"\nwrk.body = [==[{body.decode()}]==]\n'
              if body else ""))
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "req.lua"
        script.write_text(lua)
        pin = ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []
        subprocess.run([*pin, "wrk", "-t1", "-c1", "-d1s", "-s", str(script), url], capture_output=True, check=True)
        duration = f"-d{max(1, round(seconds))}s"  # wrk takes whole seconds
        out = subprocess.run([*pin, "wrk", "-t1", f"-c{clients}", duration, "--latency", "-s", str(script), url],
                             capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float | None:
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return None if m is None else round(float(m.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[m.group(2)], 2)

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return {"clients": clients, "requests": int(total.group(1)) if total else None, "errors": errors,
            "seconds": seconds, "requests_per_s": float(rps.group(1)) if rps else None, "p50_ms": ms("50%"),
            "p99_ms": ms("99%"), "tool": "wrk -t1"}

"""A minimal keep-alive HTTP/1.1 load generator on asyncio streams (far cheaper per request than httpx)."""

from __future__ import annotations

import asyncio
import json
import time


def build_request(path: str, token: str, body: dict, port: int) -> bytes:
    payload = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
    return head.encode() + payload


async def _connection(port: int, request: bytes, budget: list[int], latencies: list[float], errors: list[int]):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while budget[0] > 0:
            budget[0] -= 1
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if head[9:12] != b"200":
                errors[0] += 1
    finally:
        writer.close()


async def run_load(port: int, request: bytes, clients: int, requests: int, warmup: int = 50) -> dict:
    """``requests`` requests over ``clients`` keep-alive connections; returns rps and latency percentiles."""
    await _connection(port, request, [warmup], [], [0])
    latencies: list[float] = []
    errors, budget = [0], [requests]
    t0 = time.perf_counter()
    await asyncio.gather(*(_connection(port, request, budget, latencies, errors) for _ in range(clients)))
    wall = time.perf_counter() - t0
    latencies.sort()

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 2)

    return {"clients": clients, "requests": len(latencies), "errors": errors[0], "seconds": round(wall, 3),
            "requests_per_s": round(len(latencies) / wall, 1), "p50_ms": pct(0.50), "p99_ms": pct(0.99)}


def run(port: int, request: bytes, clients: int, requests: int) -> dict:
    try:
        import uvloop

        return uvloop.run(run_load(port, request, clients, requests))
    except ImportError:
        return asyncio.run(run_load(port, request, clients, requests))

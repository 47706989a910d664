"""Hand-written Prometheus counters (text exposition format 0.0.4)."""

from __future__ import annotations

import threading
from collections import defaultdict


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.events: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            self.seconds[(method, route)] += seconds

    def count(self, name: str, result: str) -> None:
        with self._lock:
            self.events[(name, result)] += 1

    def render(self) -> str:
        lines = ["# HELP mome_hub_requests_total HTTP requests by route and status.",
                 "# TYPE mome_hub_requests_total counter"]
        with self._lock:
            for (m, r, s), n in sorted(self.requests.items()):
                lines.append(f'mome_hub_requests_total{{method="{m}",route="{r}",status="{s}"}} {n}')
            lines += ["# HELP mome_hub_request_seconds_total Time spent serving requests by route.",
                      "# TYPE mome_hub_request_seconds_total counter"]
            for (m, r), t in sorted(self.seconds.items()):
                lines.append(f'mome_hub_request_seconds_total{{method="{m}",route="{r}"}} {t:.6f}')
            lines += ["# HELP mome_hub_events_total Pushes, publishes and reports by result.",
                      "# TYPE mome_hub_events_total counter"]
            for (name, result), n in sorted(self.events.items()):
                lines.append(f'mome_hub_events_total{{event="{name}",result="{result}"}} {n}')
        return "\n".join(lines) + "\n"

"""A strategy wrapper that samples like Flower's FedAvg/FedProx but only ever aggregates ``experts`` tensors.

Only nodes whose key the hub binds to an enrolled site are sampled; each reply is checked on
arrival: a center claim that does not match the node's binding, any non-expert or non-finite
tensor, or a malformed reply is refused and reported, never averaged. The aggregate is the
sample-weighted mean (accumulated in float64, in site order), made only when at least
``min_sites`` replies were usable; otherwise the round keeps the previous experts.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg, Strategy

from federation.wire import ARRAYS, METRICS, SITE, WEIGHT_KEY, NonExpertTensorError, check_experts_only


@dataclass
class RoundReport:
    """One round: who contributed with which metrics, who failed or was refused, bytes each way and seconds."""

    round: int
    sites: dict[str, dict[str, float]] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    aggregated: bool = False
    bytes_to_sites: int = 0
    bytes_to_hub: int = 0
    seconds: float = 0.0
    sampled: list[int] = field(default_factory=list)


class BoundGrid:
    """A view of a Grid that offers only the nodes bound to a site, so nothing is sent to unbound nodes."""

    def __init__(self, grid: Grid, bindings: dict[int, str]) -> None:
        self._grid, self._bindings = grid, bindings

    def get_node_ids(self) -> list[int]:
        return [n for n in self._grid.get_node_ids() if n in self._bindings]

    def __getattr__(self, name: str) -> object:
        return getattr(self._grid, name)


class ExpertsOnly(Strategy):
    """Wrap a Flower ``FedAvg`` (or ``FedProx``): its sampling and config, our checked experts-only mean."""

    def __init__(self, inner: FedAvg, *, bindings: dict[int, str] | None = None, min_sites: int = 1,
                 on_round: Callable[[RoundReport], None] | None = None) -> None:
        self.inner, self.bindings, self.min_sites, self.on_round = inner, bindings, min_sites, on_round
        self.reports: list[RoundReport] = []
        self._started = 0.0

    def summary(self) -> None:
        """Log the wrapped strategy's configuration."""
        self.inner.summary()

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        """Check the outgoing arrays, then let the wrapped strategy sample bound sites and build messages."""
        check_experts_only(arrays.keys(), where="outgoing server message")
        view = grid if self.bindings is None else BoundGrid(grid, self.bindings)
        messages = list(self.inner.configure_train(server_round, arrays, config, view))
        report = RoundReport(round=server_round)
        report.bytes_to_sites = sum(message_bytes(m) for m in messages)
        report.sampled = [m.metadata.dst_node_id for m in messages]
        self.reports.append(report)
        self._started = time.perf_counter()
        return messages

    def aggregate_train(self, server_round: int,
                        replies: Iterable[Message]) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Sample-weighted mean of the accepted replies' experts; ``(None, None)`` under ``min_sites``."""
        report = self._report(server_round)
        accepted: list[tuple[str, float, ArrayRecord]] = []
        replies = list(replies)
        for msg in replies:
            node = str(msg.metadata.src_node_id)
            report.bytes_to_hub += message_bytes(msg)
            if msg.has_error():
                report.failures.append(self._failure(msg, msg.error.reason or "client error"))
                continue
            try:
                site, weight, arrays, metrics = self._accept(msg)
            except (NonExpertTensorError, ValueError, KeyError, TypeError) as err:
                report.failures.append(self._failure(msg, f"refused: {err}"))
                continue
            if site in report.sites:
                report.failures.append({"node": node, "reason": f"refused: a second reply for site {site}"})
                continue
            accepted.append((site, weight, arrays))
            report.sites[site] = {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
        answered = {msg.metadata.src_node_id for msg in replies}
        for node_id in report.sampled:
            if node_id not in answered:
                missing = {"node": str(node_id), "reason": "no reply within the round timeout"}
                if self.bindings and node_id in self.bindings:
                    missing["center"] = self.bindings[node_id]
                report.failures.append(missing)
        report.seconds = time.perf_counter() - self._started
        result: tuple[ArrayRecord | None, MetricRecord | None] = (None, None)
        if len(accepted) >= self.min_sites:
            accepted.sort(key=lambda item: item[0])
            keys = list(accepted[0][2].keys())
            for site, _, arrays in accepted[1:]:
                if list(arrays.keys()) != keys:
                    raise ValueError(f"site {site} returned a different set of experts tensors")
            result = weighted_mean(accepted, keys), _mean_metrics(report)
            report.aggregated = True
        else:
            report.failures.append({"node": "-", "reason": f"only {len(accepted)} usable replies, fewer than "
                                                           f"min_sites={self.min_sites}: experts kept as they were"})
        if self.on_round:
            self.on_round(report)
        return result

    def _report(self, server_round: int) -> RoundReport:
        if not self.reports or self.reports[-1].round != server_round:
            self.reports.append(RoundReport(round=server_round))
        return self.reports[-1]

    def _failure(self, msg: Message, reason: str) -> dict[str, str]:
        node = msg.metadata.src_node_id
        out = {"node": str(node), "reason": reason}
        if self.bindings and node in self.bindings:
            out["center"] = self.bindings[node]
        return out

    def _accept(self, msg: Message) -> tuple[str, float, ArrayRecord, MetricRecord]:
        content = msg.content
        if set(content.array_records) != {ARRAYS} or set(content.metric_records) != {METRICS}:
            raise ValueError(f"expected one ArrayRecord {ARRAYS!r} and one MetricRecord {METRICS!r}")
        arrays = content.array_records[ARRAYS]
        check_experts_only(arrays.keys(), where="incoming reply")
        site = str(content.config_records[SITE]["center"])
        check_binding(self.bindings, msg.metadata.src_node_id, site)
        metrics = content.metric_records[METRICS]
        weight = float(metrics[WEIGHT_KEY])
        if not weight > 0:
            raise ValueError(f"{WEIGHT_KEY} must be positive, got {weight}")
        for name in arrays:
            if not np.isfinite(arrays[name].numpy()).all():
                raise ValueError(f"tensor {name!r} is not finite")
        return site, weight, arrays, metrics

    def configure_evaluate(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                           grid: Grid) -> Iterable[Message]:
        """No federated evaluation round: sites report validation Dice with their training reply."""
        return []

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]) -> MetricRecord | None:
        """Nothing to aggregate (see ``configure_evaluate``)."""
        return None


def check_binding(bindings: dict[int, str] | None, node: int, claimed: str) -> None:
    """Raise ``ValueError`` unless ``node``'s registered key belongs to the site of center ``claimed``."""
    if bindings is None:
        return
    bound = bindings.get(node)
    if bound is None:
        raise ValueError(f"node {node} has no key registered to an enrolled site")
    if bound != claimed:
        raise ValueError(f"node {node} is bound to center {bound} but claimed {claimed}")


def message_bytes(msg: Message) -> int:
    """Bytes of a message's tensors (what dominates its serialised size); 0 for an error reply."""
    if not msg.has_content():
        return 0
    return sum(r.count_bytes() for r in msg.content.array_records.values())


def weighted_mean(accepted: list[tuple[str, float, ArrayRecord]], keys: list[str]) -> ArrayRecord:
    """``sum_i w_i x_i / sum_i w_i`` per tensor, in float64, cast back to the tensors' dtype."""
    total = sum(w for _, w, _ in accepted)
    out: dict[str, Array] = {}
    for key in keys:
        first = accepted[0][2][key].numpy()
        acc = np.zeros(first.shape, dtype=np.float64)
        for _, w, arrays in accepted:
            acc += w * arrays[key].numpy().astype(np.float64)
        out[key] = Array(np.ascontiguousarray((acc / total).astype(first.dtype)))
    return ArrayRecord(out)


def _mean_metrics(report: RoundReport) -> MetricRecord:
    total = sum(m.get(WEIGHT_KEY, 0.0) for m in report.sites.values())
    keys = sorted({k for m in report.sites.values() for k in m} - {WEIGHT_KEY})
    out: dict[str, float | int] = {WEIGHT_KEY: int(total), "sites": len(report.sites)}
    for k in keys:
        out[k] = sum(m.get(k, 0.0) * m.get(WEIGHT_KEY, 0.0) for m in report.sites.values()) / max(total, 1.0)
    return MetricRecord(out)

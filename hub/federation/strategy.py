"""A strategy wrapper that samples like Flower's FedAvg/FedProx but only ever aggregates ``experts`` tensors.

Each reply is checked on arrival: an ArrayRecord holding any non-expert tensor, a site that
is not enrolled on the hub or a malformed reply is rejected and reported, never averaged.
The aggregate is the sample-weighted mean (accumulated in float64, in site order).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg, Strategy

from hub.federation.wire import ARRAYS, METRICS, SITE, WEIGHT_KEY, NonExpertTensorError, check_experts_only


@dataclass
class RoundReport:
    """One round: who contributed with how many cases and metrics, and who failed or was rejected."""

    round: int
    sites: dict[str, dict[str, float]] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)


class ExpertsOnly(Strategy):
    """Wrap a Flower ``FedAvg`` (or ``FedProx``): its sampling and config, our checked experts-only mean."""

    def __init__(self, inner: FedAvg, *, enrolled: set[str] | None = None) -> None:
        self.inner = inner
        self.enrolled = enrolled
        self.reports: list[RoundReport] = []

    def summary(self) -> None:
        """Log the wrapped strategy's configuration."""
        self.inner.summary()

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        """Check the outgoing arrays, then let the wrapped strategy sample sites and build messages."""
        check_experts_only(arrays.keys(), where="outgoing server message")
        return self.inner.configure_train(server_round, arrays, config, grid)

    def aggregate_train(self, server_round: int,
                        replies: Iterable[Message]) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Sample-weighted mean of the accepted replies' experts; ``(None, None)`` if none was accepted."""
        report = RoundReport(round=server_round)
        self.reports.append(report)
        accepted: list[tuple[str, float, ArrayRecord]] = []
        for msg in replies:
            node = str(msg.metadata.src_node_id)
            if msg.has_error():
                report.failures.append({"node": node, "reason": msg.error.reason or "client error"})
                continue
            try:
                site, weight, arrays, metrics = self._accept(msg)
            except (NonExpertTensorError, ValueError, KeyError, TypeError) as err:
                report.failures.append({"node": node, "reason": f"rejected: {err}"})
                continue
            accepted.append((site, weight, arrays))
            report.sites[site] = {k: float(v) for k, v in metrics.items() if isinstance(v, int | float)}
        if not accepted:
            return None, None
        accepted.sort(key=lambda item: item[0])
        keys = list(accepted[0][2].keys())
        for site, _, arrays in accepted[1:]:
            if list(arrays.keys()) != keys:
                raise ValueError(f"site {site} returned a different set of experts tensors")
        return weighted_mean(accepted, keys), _mean_metrics(report)

    def _accept(self, msg: Message) -> tuple[str, float, ArrayRecord, MetricRecord]:
        content = msg.content
        if set(content.array_records) != {ARRAYS} or set(content.metric_records) != {METRICS}:
            raise ValueError(f"expected one ArrayRecord {ARRAYS!r} and one MetricRecord {METRICS!r}")
        arrays = content.array_records[ARRAYS]
        check_experts_only(arrays.keys(), where="incoming reply")
        site = str(content.config_records[SITE]["center"])
        if self.enrolled is not None and site not in self.enrolled:
            raise ValueError(f"site {site!r} is not enrolled on this hub")
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

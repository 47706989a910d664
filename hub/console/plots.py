"""What the console plots, read from the aggregate metrics routers were pushed with.

Dice vs shots: one point per router that has a shot count and a Dice metric (the first of
``DICE_KEYS`` present). Expert activation: metrics named ``activation.<layer>.<expert>``
(share of tokens routed to each expert, seed 000 Fig. 3b); routers pushed without them
simply have no row.
"""

from __future__ import annotations

import re

from protocols.hub_api import RouterInfo

DICE_KEYS = ("heldout_dice_after", "val_dice_after", "dice")
ACTIVATION = re.compile(r"activation\.([A-Za-z0-9_.-]{1,40})\.(\d{1,3})")


def dice_of(metrics: dict[str, float]) -> tuple[str, float] | None:
    """(metric name, value) of the best Dice metric a push carried, if any."""
    for key in DICE_KEYS:
        if key in metrics and 0.0 <= metrics[key] <= 1.0:
            return key, metrics[key]
    return None


def dice_vs_shots(routers: list[RouterInfo]) -> dict[str, list[tuple[int, float, int]]]:
    """``{center: [(shots, dice, router id), ...]}`` sorted by shots, for routers that reported both."""
    out: dict[str, list[tuple[int, float, int]]] = {}
    for r in routers:
        if r.shots is not None and (d := dice_of(r.metrics)) is not None:
            out.setdefault(r.center, []).append((r.shots, d[1], r.id))
    return {c: sorted(v) for c, v in sorted(out.items())}


def activation_of(metrics: dict[str, float]) -> dict[str, list[float]]:
    """``{layer: [share of expert 0, 1, ...]}`` from ``activation.<layer>.<expert>`` metrics."""
    cells: dict[str, dict[int, float]] = {}
    for key, value in metrics.items():
        if (m := ACTIVATION.fullmatch(key)) and 0.0 <= value <= 1.0:
            cells.setdefault(m.group(1), {})[int(m.group(2))] = value
    return {layer: [experts.get(i, 0.0) for i in range(max(experts) + 1)] for layer, experts in sorted(cells.items())}


def activations(routers: list[RouterInfo]) -> list[tuple[RouterInfo, dict[str, list[float]]]]:
    return [(r, act) for r in routers if (act := activation_of(r.metrics))]

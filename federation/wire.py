"""What a federation message may carry: record keys shared by ServerApp and ClientApp, and the experts-only rule.

Only tensors of the ``experts`` group ever travel; a site's router, encoder, decoder,
alignment and prompt stay local. Both sides check every ArrayRecord with ``check_experts_only``.
"""

from __future__ import annotations

from collections.abc import Iterable

from models.groups import tensor_group

ARRAYS = "arrays"  # the single ArrayRecord: expert tensors only (Flower's default key)
CONFIG = "config"  # the single ConfigRecord the server sends (Flower's default key)
METRICS = "metrics"  # the single MetricRecord a site replies with
SITE = "site"  # ConfigRecord in a reply naming the site's center: {"center": "D"}
WEIGHT_KEY = "num-examples"  # local training cases, the FedAvg weight
METRIC_KEYS = (WEIGHT_KEY, "train-loss", "val-dice", "seconds")


class NonExpertTensorError(ValueError):
    """A message would carry (or carried) a tensor that is not in the ``experts`` group."""


def is_expert(name: str) -> bool:
    """True if the state-dict key belongs to the shared experts."""
    try:
        return tensor_group(name) == "experts"
    except ValueError:
        return False


def check_experts_only(names: Iterable[str], *, where: str) -> None:
    """Raise ``NonExpertTensorError`` naming the first few tensors that are not experts."""
    bad = sorted(n for n in names if not is_expert(n))
    if bad:
        shown = ", ".join(bad[:3]) + (f" (+{len(bad) - 3} more)" if len(bad) > 3 else "")
        raise NonExpertTensorError(f"{where}: only experts tensors may travel, found {shown}")

"""Typed settings of one federation run, read from (and written to) a Flower run config."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from flwr.serverapp.strategy import DifferentialPrivacyClientSideFixedClipping, FedAvg, FedProx, Strategy

from hub.federation.strategy import ExpertsOnly

STRATEGIES = ("fedavg", "fedprox")


@dataclass(frozen=True)
class FederationSettings:
    """What the ServerApp needs: the hub, the base version, rounds, sites, local work and privacy."""

    hub_data_dir: str
    version: str
    rounds: int = 2
    min_sites: int = 2
    strategy: str = "fedavg"
    proximal_mu: float = 0.0
    local_steps: int = 20
    lr: float = 5e-4
    dp_noise: float = 0.0
    dp_clip: float = 0.0
    draft_version: str = ""
    hub_db: str = ""
    round_timeout: float = 3600.0
    require_enrolled: bool = True

    def __post_init__(self) -> None:
        if self.rounds < 1 or self.min_sites < 1 or self.local_steps < 1:
            raise ValueError("rounds, min_sites and local_steps must each be at least 1")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if self.proximal_mu < 0 or self.dp_noise < 0 or self.dp_clip < 0 or self.lr <= 0:
            raise ValueError("proximal_mu, dp_noise and dp_clip must be >= 0 and lr > 0")
        if self.dp_noise > 0 and self.dp_clip <= 0:
            raise ValueError("dp_noise needs a positive dp_clip (the clipping norm)")

    @classmethod
    def from_run_config(cls, run_config: dict) -> FederationSettings:
        """Parse Flower's run config (keys in kebab-case, e.g. ``min-sites``); unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        given = {k.replace("-", "_"): v for k, v in run_config.items()}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise ValueError(f"unknown federation settings: {', '.join(unknown)}")
        return cls(**given)

    def to_run_config(self) -> dict[str, str | int | float | bool]:
        """The run config that ``from_run_config`` reads back."""
        return {k.replace("_", "-"): v for k, v in asdict(self).items()}

    @property
    def dp(self) -> bool:
        return self.dp_clip > 0


def build_strategy(settings: FederationSettings, *, enrolled: set[str] | None) -> ExpertsOnly | Strategy:
    """FedAvg or FedProx sampling ``min_sites`` sites, experts-only, optionally wrapped for client-side DP."""
    common = dict(fraction_train=1.0, fraction_evaluate=0.0, min_train_nodes=settings.min_sites,
                  min_available_nodes=settings.min_sites)
    inner = (FedProx(**common, proximal_mu=settings.proximal_mu) if settings.strategy == "fedprox"
             else FedAvg(**common))
    strategy = ExpertsOnly(inner, enrolled=enrolled)
    if not settings.dp:
        return strategy
    return DifferentialPrivacyClientSideFixedClipping(strategy, noise_multiplier=settings.dp_noise,
                                                      clipping_norm=settings.dp_clip,
                                                      num_sampled_clients=settings.min_sites)


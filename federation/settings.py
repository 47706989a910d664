"""Typed settings of one federation run, read from (and written to) a Flower run config."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

STRATEGIES = ("fedavg", "fedprox")


@dataclass(frozen=True)
class FederationSettings:
    """What the ServerApp needs: how to reach the hub, the base version, rounds, sites, local work and privacy.

    ``hub_port`` names the factory (``module:attr``, as Flower names its app components) that opens
    the hub for this run from these settings; ``hub_data_dir`` and ``hub_db`` are passed through to it.
    """

    hub_data_dir: str
    version: str
    hub_port: str = ""
    hub_db: str = ""
    rounds: int = 2
    min_sites: int = 2
    strategy: str = "fedavg"
    proximal_mu: float = 0.0
    local_steps: int = 20
    lr: float = 5e-4
    dp_noise: float = 0.0
    dp_clip: float = 0.0
    secagg: bool = False
    draft_version: str = ""
    round_timeout: float = 3600.0
    bind_nodes: bool = True

    def __post_init__(self) -> None:
        if self.rounds < 1 or self.min_sites < 1 or self.local_steps < 1:
            raise ValueError("rounds, min_sites and local_steps must each be at least 1")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if self.proximal_mu < 0 or self.dp_noise < 0 or self.dp_clip < 0 or self.lr <= 0:
            raise ValueError("proximal_mu, dp_noise and dp_clip must be >= 0 and lr > 0")
        if self.dp_noise > 0 and self.dp_clip <= 0:
            raise ValueError("dp_noise needs a positive dp_clip (the clipping norm)")
        if self.round_timeout <= 0:
            raise ValueError("round_timeout must be positive")
        if self.secagg and (self.dp or self.strategy != "fedavg"):
            raise ValueError("secagg runs plain FedAvg: it cannot be combined with FedProx or DP")
        if self.secagg and self.min_sites < 2:
            raise ValueError("secagg needs min_sites of at least 2 (one site's sum would be its own update)")

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

    def public(self) -> dict[str, object]:
        """Settings worth recording in lineage (no paths or database URLs)."""
        keep = ("rounds", "min_sites", "strategy", "proximal_mu", "local_steps", "lr", "dp_noise", "dp_clip", "secagg")
        return {k: getattr(self, k) for k in keep}

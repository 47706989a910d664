"""Zero-shot evidence per router: each reporting site's share of the score, capped so that no site dominates."""

from __future__ import annotations

from dataclasses import dataclass

PRIOR_CASES = 10
"""Zero-shot evidence weighs cases / (cases + PRIOR_CASES) against fingerprint similarity."""

MAX_SITE_SHARE = 0.25
"""No single site's reports make up more than this share of any router's score (the rest stays fingerprint)."""

SITES_EXPLAINED = 3
"""How many sites a recommendation names one by one; the others are summed up in one reason."""


@dataclass(frozen=True)
class SiteShare:
    """One site's report on one router and the share of that router's score it carries."""

    site_id: int
    dice: float
    cases: int
    share: float
    capped: bool


def site_shares(reports: list[tuple[int, float, int]]) -> tuple[SiteShare, ...]:
    """(site_id, dice, cases) reports -> shares ``cases / (all cases + PRIOR_CASES)``, each capped, largest first."""
    total = sum(cases for _, _, cases in reports)
    out = []
    for site_id, dice, cases in reports:
        raw = cases / (total + PRIOR_CASES)
        out.append(SiteShare(site_id, float(dice), int(cases), min(raw, MAX_SITE_SHARE), raw > MAX_SITE_SHARE))
    return tuple(sorted(out, key=lambda s: (-s.share, s.site_id)))


def influence_reasons(shares: tuple[SiteShare, ...]) -> list[str]:
    """One reason per site (the ``SITES_EXPLAINED`` largest), then the rest together."""
    out = [f"site {s.site_id}: Dice {s.dice:.3f} over {s.cases} cases, {s.share:.0%} of the score"
           + (f" (capped at {MAX_SITE_SHARE:.0%} per site)" if s.capped else "")
           for s in shares[:SITES_EXPLAINED]]
    rest = shares[SITES_EXPLAINED:]
    if rest:
        out.append(f"{len(rest)} more site{'s' if len(rest) != 1 else ''}: "
                   f"{sum(s.share for s in rest):.0%} of the score together")
    return out

"""The hub's record of federated rounds: stored by the ServerApp as each round ends, read by CLI and console."""

from __future__ import annotations

import json

from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.db.models import FederationRound
from hub.db.session import write_session
from protocols.federation import FederationRoundInfo, RoundFailure, SiteRoundMetrics

_SITES = TypeAdapter(dict[str, SiteRoundMetrics])
_FAILURES = TypeAdapter(list[RoundFailure])


def record_round(factory: sessionmaker[Session], info: FederationRoundInfo) -> None:
    """Store (or replace, if the run repeats a round number) one round's record, in one transaction."""
    with write_session(factory) as s:
        row = s.scalar(select(FederationRound).where(FederationRound.run == info.run,
                                                     FederationRound.round == info.round))
        if row is None:
            row = FederationRound(run=info.run, round=info.round)
            s.add(row)
        row.base_version, row.aggregated, row.secagg = info.base_version, info.aggregated, info.secagg
        row.seconds, row.bytes_to_sites, row.bytes_to_hub = info.seconds, info.bytes_to_sites, info.bytes_to_hub
        row.sites_json = json.dumps({k: v.model_dump() for k, v in info.sites.items()}, sort_keys=True)
        row.failures_json = json.dumps([f.model_dump() for f in info.failures])


def list_rounds(session: Session, *, run: str | None = None, limit: int = 100) -> list[FederationRoundInfo]:
    """The newest ``limit`` rounds (of run ``run`` if given), oldest first: what the console and CLI show."""
    stmt = select(FederationRound).order_by(FederationRound.id.desc()).limit(limit)
    if run is not None:
        stmt = stmt.where(FederationRound.run == run)
    rows = list(session.scalars(stmt))[::-1]
    return [FederationRoundInfo(run=r.run, base_version=r.base_version, round=r.round, aggregated=r.aggregated,
                                secagg=r.secagg, seconds=r.seconds, bytes_to_sites=r.bytes_to_sites,
                                bytes_to_hub=r.bytes_to_hub, sites=_SITES.validate_json(r.sites_json),
                                failures=_FAILURES.validate_json(r.failures_json), created_at=r.created_at)
            for r in rows]

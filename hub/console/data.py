"""Read-only views of the hub's database for the console, built on the registry's wire conversions."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.models import AuditEvent, Center, ModelVersion, Router, ZeroShotReportRow
from hub.services import principals, registry
from protocols.hub_api import AuditEventInfo, ModelVersionInfo, RouterInfo, SiteInfo
from protocols.manifest import Lineage

FEDERATED_KIND = "federated-experts"
LINEAGE_DEPTH = 16


@dataclass
class VersionView:
    """A model version with its lineage, tensor groups, routers and any federation record."""

    info: ModelVersionInfo
    lineage: Lineage
    groups: dict[str, int]
    routers: list[RouterInfo] = field(default_factory=list)
    federation: dict | None = None
    children: list[str] = field(default_factory=list)


def federation_record(lineage: Lineage) -> dict | None:
    """The per-round record a federated draft keeps in its lineage notes, or None for other versions."""
    try:
        doc = json.loads(lineage.notes or "")
    except ValueError:
        return None
    return doc if isinstance(doc, dict) and doc.get("kind") == FEDERATED_KIND else None


def _visible(include_drafts: bool):  # noqa: ANN202
    return None if include_drafts else ModelVersion.status.in_(registry.VISIBLE)


def _versions(s: Session, include_drafts: bool) -> list[ModelVersion]:
    stmt = select(ModelVersion).order_by(ModelVersion.id.desc())
    if (cond := _visible(include_drafts)) is not None:
        stmt = stmt.where(cond)
    return list(s.scalars(stmt))


def version_views(s: Session, *, include_drafts: bool, center: str | None = None) -> list[VersionView]:
    """Every visible version, newest first, with routers (of ``center`` only, when given) and children."""
    rows = _versions(s, include_drafts)
    routers = routers_of(s, include_drafts=include_drafts, center=center)
    out = []
    for row in rows:
        m = registry.manifest_of(row)
        groups: dict[str, int] = {}
        for spec in m.tensors.values():
            groups[spec.group] = groups.get(spec.group, 0) + 1
        out.append(VersionView(registry.version_info(row), m.lineage, dict(sorted(groups.items())),
                               [r for r in routers if r.model_version == row.version], federation_record(m.lineage)))
    for v in out:
        v.children = [c.info.version for c in out if c.lineage.base_version == v.info.version]
    return out


def routers_of(s: Session, *, include_drafts: bool, center: str | None = None) -> list[RouterInfo]:
    """Routers by center code, newest first within a center."""
    stmt = select(Router).join(Center).join(ModelVersion).order_by(Center.code, Router.id.desc())
    if (cond := _visible(include_drafts)) is not None:
        stmt = stmt.where(cond)
    if center is not None:
        stmt = stmt.where(Center.code == center)
    return [registry.router_info(r) for r in s.scalars(stmt)]


def router_row(s: Session, router_id: int, *, include_drafts: bool, center: str | None) -> Router | None:
    """The router, or None when it does not exist or the viewer may not see it."""
    row = s.get(Router, router_id)
    if row is None or (not include_drafts and row.model_version.status not in registry.VISIBLE):
        return None
    return None if center is not None and row.center.code != center else row


def version_chain(s: Session, version: str, *, include_drafts: bool) -> list[tuple[str, bool]]:
    """``version`` then its base, its base's base...: (name, known to this hub), stopping at a cycle."""
    chain: list[tuple[str, bool]] = []
    current: str | None = version
    while current and len(chain) < LINEAGE_DEPTH and current not in (c for c, _ in chain):
        row = s.scalar(select(ModelVersion).where(ModelVersion.version == current))
        known = row is not None and (include_drafts or row.status in registry.VISIBLE)
        chain.append((current, known))
        current = registry.manifest_of(row).lineage.base_version if known else None
    return chain


def init_router_row(s: Session, row: Router) -> Router | None:
    """The router this one started from: the newest router of center ``init_router`` in the same version."""
    if not row.init_router:
        return None
    return s.scalar(select(Router).join(Center).where(Router.model_version_id == row.model_version_id,
                                                      Center.code == row.init_router, Router.id != row.id)
                    .order_by(Router.id.desc()).limit(1))


def zero_shot_reports(s: Session, router_id: int) -> list[tuple[int, float, int, datetime]]:
    """(site id, Dice, cases, when) of each site's zero-shot report on this router."""
    return [tuple(r) for r in s.execute(
        select(ZeroShotReportRow.site_id, ZeroShotReportRow.dice, ZeroShotReportRow.case_count,
               ZeroShotReportRow.created_at).where(ZeroShotReportRow.router_id == router_id)
        .order_by(ZeroShotReportRow.dice.desc()))]


def last_contact(s: Session) -> dict[int, datetime]:
    """Newest audited write per site id (pushes, reports, fingerprints); reads are not audited."""
    out: dict[int, datetime] = {}
    for actor, at in s.execute(select(AuditEvent.actor, func.max(AuditEvent.at))
                               .where(AuditEvent.actor.like("site:%")).group_by(AuditEvent.actor)):
        part = actor.split(":", 2)[1] if actor.count(":") >= 2 else ""
        if part.isdigit() and (int(part) not in out or at > out[int(part)]):
            out[int(part)] = at
    return out


def sites_of(s: Session, *, center: str | None) -> list[tuple[SiteInfo, datetime | None]]:
    seen = last_contact(s)
    return [(x, seen.get(x.id)) for x in principals.list_sites(s, center=center)]


def audit_page(s: Session, *, before: int | None, limit: int, action: str | None) -> list[AuditEventInfo]:
    """``limit`` events older than id ``before`` (keyset paging), newest first."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(AuditEvent.id < before)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return [AuditEventInfo(id=e.id, at=e.at, actor=e.actor, action=e.action, target=e.target,
                           detail=json.loads(e.detail_json or "{}")) for e in s.scalars(stmt)]


def centers_with_fingerprint(s: Session) -> list[str]:
    return list(s.scalars(select(Center.code).where(Center.fingerprint_json.is_not(None)).order_by(Center.code)))

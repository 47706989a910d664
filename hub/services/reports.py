"""Zero-shot reports: per-router Dice and case count a site measured on its own cases."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from hub.db.models import Center, Router, ZeroShotReportRow
from hub.db.session import write_session
from hub.errors import InvalidInput, NotFound
from hub.services import audit, registry
from hub.services.principals import Principal, assert_site_active
from protocols.fingerprint import SiteFingerprint
from protocols.hub_api import ZeroShotReport, ZeroShotReportAck

CASES_WITHOUT_FINGERPRINT = 1000
"""Most cases a site may report per router while its center has published no fingerprint."""


def _resolve(s: Session, version_id: int, center: str, router_id: int | None) -> Router:
    stmt = select(Router).join(Center).where(Router.model_version_id == version_id, Center.code == center)
    if router_id is not None:
        stmt = stmt.where(Router.id == router_id)
    row = s.scalar(stmt.order_by(Router.id.desc()).limit(1))
    if row is None:
        what = f"router {router_id} of center {center}" if router_id is not None else f"a router for center {center}"
        raise NotFound(f"model version has no {what}", field="results.center")
    return row


def case_limit(s: Session, center: str | None) -> tuple[int, str]:
    """(most cases a site of ``center`` may report, where that bound comes from)."""
    fp_json = s.scalar(select(Center.fingerprint_json).where(Center.code == center)) if center else None
    if fp_json:
        count = SiteFingerprint.model_validate_json(fp_json).case_count
        return count, f"the case_count of center {center}'s fingerprint"
    return CASES_WITHOUT_FINGERPRINT, f"the hub's cap while center {center} has no fingerprint"


def store_report(factory: sessionmaker[Session], *, site: Principal, report: ZeroShotReport) -> ZeroShotReportAck:
    """Replace this site's earlier results for the same routers (latest result wins)."""
    with write_session(factory) as s:
        assert_site_active(s, site.id)
        version = registry.get_version(s, report.model_version)
        limit, source = case_limit(s, site.center)
        for i, r in enumerate(report.results):
            if r.case_count > limit:
                raise InvalidInput(f"results.{i}.case_count is {r.case_count} but a site of center {site.center} may "
                                   f"report at most {limit} cases ({source})", field=f"results.{i}.case_count",
                                   code="too_many_cases")
        ids = []
        for r in report.results:
            router = _resolve(s, version.id, r.center, r.router_id)
            s.execute(delete(ZeroShotReportRow).where(ZeroShotReportRow.site_id == site.id,
                                                      ZeroShotReportRow.router_id == router.id))
            s.add(ZeroShotReportRow(site_id=site.id, router_id=router.id, dice=r.dice, case_count=r.case_count))
            ids.append(router.id)
        audit.record(s, actor=site.actor, action="report.zero_shot", target=report.model_version, router_ids=ids)
        return ZeroShotReportAck(stored=len(ids), router_ids=ids)

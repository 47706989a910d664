"""The operator console over HTTP (TestClient): log-in, scopes, revocation, CSRF, escaping, pages' content."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from hub.console import pages_ops
from hub.console.sessions import SESSION_COOKIE, SessionStore
from hub.services.centers import set_fingerprint
from hub.services.principals import add_site, revoke_site
from hub.services.publish import publish
from protocols.fingerprint import SiteFingerprint
from tests.hub.hubfake import make_model_dir, push_bytes, push_form, push_manifest

PAGES = ["/console/", "/console/versions", "/console/versions/1.0", "/console/routers", "/console/routers/1",
         "/console/sites", "/console/recommendations?center=A", "/console/audit", "/console/federation",
         "/console/plots", "/console/no-such-page"]
HOSTILE = "<script>alert(1)</script>"


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(client: TestClient, token: str) -> TestClient:
    form = client.get("/console/login")
    r = client.post("/console/login", data={"token": token, "csrf": _csrf(form.text)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/", r.text
    return client


def _push(hub, token: str, center: str, *, seed: int = 1, **kw: object) -> int:
    data = push_bytes(center, seed=seed)
    r = hub.client.post("/v1/routers", files=push_form(data, push_manifest(data, center, **kw)),
                        headers=hub.auth(token))
    assert r.status_code == 201, r.text
    return r.json()["router"]["id"]


def _router_ids(hub) -> dict[str, int]:
    return {r["center"]: r["id"] for r in hub.client.get("/v1/routers", headers=hub.auth(hub.operator)).json()}


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitor_is_sent_to_login_and_sees_nothing(hub, path):
    r = hub.client.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    assert "1.0" not in r.text and "alpha" not in r.text


def test_login_page_reveals_no_data(hub):
    r = hub.client.get("/console/login")
    assert r.status_code == 200 and 'name="token"' in r.text
    assert "1.0" not in r.text and "alpha" not in r.text and "Routers" not in r.text


def test_wrong_token_stays_on_login_with_error(hub):
    form = hub.client.get("/console/login")
    r = hub.client.post("/console/login", data={"token": "mho_not-a-token", "csrf": _csrf(form.text)},
                        follow_redirects=False)
    assert r.status_code == 401 and "Log-in refused" in r.text and "not known to this hub" in r.text
    assert SESSION_COOKIE not in r.cookies
    assert hub.client.get("/console/", follow_redirects=False).status_code == 303


def test_session_cookie_is_strict_httponly_secure_and_not_the_token(hub):
    client = TestClient(hub.client.app, base_url="https://testserver")
    form = client.get("/console/login")
    r = client.post("/console/login", data={"token": hub.operator, "csrf": _csrf(form.text)}, follow_redirects=False)
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie and "Path=/console" in cookie
    assert hub.operator not in cookie and hub.operator not in r.text
    plain = login(TestClient(hub.client.app), hub.operator)  # http: the browser must still send it
    assert not next(c for c in plain.cookies.jar if c.name == SESSION_COOKIE).secure


def test_operator_sees_versions_routers_and_router_lineage(hub):
    pushed = _push(hub, hub.site_d, "D", metrics={"heldout_dice_after": 0.81}, init_router="A")
    login(hub.client, hub.operator)
    versions = hub.client.get("/console/versions").text
    assert "1.0" in versions and "mome_ro.tiny" in versions
    routers = hub.client.get("/console/routers").text
    assert all(f"Center {c}" in routers for c in ("A", "B", "D")) and "site:" in routers and "delta" in routers
    page = hub.client.get(f"/console/routers/{pushed}").text
    start = _router_ids(hub)["A"]
    assert f'href="/console/routers/{start}"' in page  # the router it started from, linked
    assert 'href="/console/versions/1.0"' in page and "0.810" in page and "heldout_dice_after" in page


def test_version_page_shows_lineage_and_groups(hub, tmp_path):
    child = make_model_dir(tmp_path / "child", seed=3)
    manifest = json.loads((child / "manifest.json").read_text())
    manifest["lineage"] = {"base_version": "1.0", "center": "A", "shots": 2}
    (child / "manifest.json").write_text(json.dumps(manifest))
    publish(factory=hub.ctx.factory, store=hub.ctx.store, signer=hub.ctx.signer, model_dir=child, version="1.1")
    login(hub.client, hub.operator)
    page = hub.client.get("/console/versions/1.1").text
    assert 'href="/console/versions/1.0"' in page and "router.A" in page and "experts" in page
    assert 'href="/console/versions/1.1"' in hub.client.get("/console/versions/1.0").text  # derived versions


def test_site_token_sees_only_its_own_center(hub):
    pushed = _push(hub, hub.site_d, "D")
    login(hub.client, hub.site_d)
    routers = hub.client.get("/console/routers").text
    assert "Center D" in routers and "Center A" not in routers
    assert hub.client.get(f"/console/routers/{pushed}").status_code == 200
    assert hub.client.get(f"/console/routers/{_router_ids(hub)['A']}").status_code == 404
    sites = hub.client.get("/console/sites").text
    assert "delta" in sites and "alpha" not in sites
    audit = hub.client.get("/console/audit")
    assert audit.status_code == 403 and "operator token" in audit.text


def test_revoking_the_token_logs_the_console_out(hub):
    login(hub.client, hub.site_d)
    assert hub.client.get("/console/routers", follow_redirects=False).status_code == 200
    revoke_site(hub.ctx.factory, site_id=hub.site_d_id, actor="test")
    r = hub.client.get("/console/routers", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    form = hub.client.get("/console/login")
    r = hub.client.post("/console/login", data={"token": hub.site_d, "csrf": _csrf(form.text)})
    assert r.status_code == 401 and "revoked" in r.text


def test_forms_without_csrf_token_are_refused(hub):
    r = hub.client.post("/console/login", data={"token": hub.operator}, follow_redirects=False)
    assert r.status_code == 403 and SESSION_COOKIE not in r.cookies
    login(hub.client, hub.operator)
    r = hub.client.post("/console/logout", data={}, follow_redirects=False)
    assert r.status_code == 403 and "security token" in r.text
    assert hub.client.get("/console/", follow_redirects=False).status_code == 200  # still logged in
    csrf = _csrf(hub.client.get("/console/").text)
    r = hub.client.post("/console/logout", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert hub.client.get("/console/", follow_redirects=False).status_code == 303


def test_hostile_names_and_metrics_are_escaped(hub):
    add_site(hub.ctx.factory, center="D", name=HOSTILE, actor="test")
    _push(hub, hub.site_d, "D", metrics={"<img src=x onerror=alert(1)>": 0.5})
    login(hub.client, hub.operator)
    for path in ("/console/sites", "/console/audit", "/console/routers", "/console/"):
        html = hub.client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hub.client.get("/console/sites").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in hub.client.get("/console/routers").text


def test_pages_send_a_strict_content_security_policy(hub):
    login(hub.client, hub.operator)
    r = hub.client.get("/console/")
    assert "default-src 'none'" in r.headers["content-security-policy"] and r.headers["cache-control"] == "no-store"


def test_console_stays_out_of_the_rest_schema(hub):
    paths = hub.client.get("/openapi.json").json()["paths"]
    assert paths and not any(p.startswith("/console") for p in paths)


def test_plots_draw_dice_vs_shots_and_activation_or_explain(hub):
    login(hub.client, hub.operator)
    assert "No router has reported Dice" in hub.client.get("/console/plots").text
    activation = {f"activation.level0.{i}": share for i, share in enumerate((0.7, 0.3))}
    _push(hub, hub.site_d, "D", shots=3, metrics={"heldout_dice_after": 0.8, **activation})
    html = hub.client.get("/console/plots").text
    assert html.count("<circle") == 1 and "D: 0.800 Dice at 3 shots" in html
    assert "level0, expert 0: 70.0% of tokens" in html and "No router carries expert activation" not in html


def test_recommendations_rank_with_reasons_for_a_center(hub):
    fp = SiteFingerprint.model_validate({"scanner": {"manufacturer": "Siemens", "kvp": 120},
                                         "voxel_spacing_mm": [1.0, 1.0, 3.0], "case_count": 40})
    for code in ("A", "D"):
        set_fingerprint(hub.ctx.factory, code=code, fingerprint=fp, actor="test")
    login(hub.client, hub.operator)
    html = hub.client.get("/console/recommendations", params={"center": "D"}).text
    assert "Ranking for center D on version 1.0" in html and "fingerprint similarity to center A" in html
    missing = hub.client.get("/console/recommendations", params={"center": "B"}).text
    assert "Center B has no published fingerprint yet" in missing


def test_federation_page_lists_federated_drafts_for_operators(hub, tmp_path):
    login(hub.client, hub.operator)
    assert "No federated rounds have run" in hub.client.get("/console/federation").text
    fed = make_model_dir(tmp_path / "fed", seed=5)
    manifest = json.loads((fed / "manifest.json").read_text())
    record = {"kind": "federated-experts", "strategy": "fedavg", "sites": ["D", "E"], "rounds": 1,
              "per_round": [{"round": 1, "sites": {"D": {"dice": 0.7}}, "failures": ["E: timed out"]}]}
    manifest["lineage"] = {"base_version": "1.0", "notes": json.dumps(record)}
    (fed / "manifest.json").write_text(json.dumps(manifest))
    publish(factory=hub.ctx.factory, store=hub.ctx.store, signer=hub.ctx.signer, model_dir=fed, version="1.0-fed1",
            draft=True)
    html = hub.client.get("/console/federation").text
    assert "1.0-fed1" in html and "fedavg" in html and "E: timed out" in html
    site = login(TestClient(hub.client.app), hub.site_d)
    assert "1.0-fed1" not in site.get("/console/federation").text  # drafts are operator-only


def test_audit_log_pages_newest_first(hub, monkeypatch):
    monkeypatch.setattr(pages_ops, "AUDIT_PAGE", 2)
    login(hub.client, hub.operator)
    first = hub.client.get("/console/audit").text
    ids = [int(x) for x in re.findall(r"<tr><td>(\d+)</td>", first)]
    assert len(ids) == 2 and ids[0] > ids[1]
    older = re.search(r'href="/console/audit\?before=(\d+)"', first)
    assert older and int(older.group(1)) == ids[1]
    second = hub.client.get(f"/console/audit?before={ids[1]}").text
    assert max(int(x) for x in re.findall(r"<tr><td>(\d+)</td>", second)) < ids[1]


def test_bad_page_arguments_get_an_html_error_for_viewers(hub):
    login(hub.client, hub.operator)
    r = hub.client.get("/console/routers/0")
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html") and "router_id" in r.text
    assert hub.client.get("/console/versions/9.9").status_code == 404


def test_session_store_expires_and_evicts_oldest(hub):
    from hub.services.tokens import hash_token

    store = SessionStore(hub.ctx.factory, limit=2)
    first, _ = store.create("t1")
    second, _ = store.create("t2")
    store.create("t3")
    assert store.get(first) is None and store.get(second).token_hash == hash_token("t2") and len(store) == 2
    stale = SessionStore(hub.ctx.factory, idle_s=-1)
    sid, _ = stale.create("t")
    assert stale.get(sid) is None and len(stale) == 0


def test_sessions_are_shared_by_worker_processes_and_keep_no_token(hub):
    from sqlalchemy import select

    from hub.db.models import ConsoleSession as Row

    # Prepare: two stores over one database stand for two `hub serve --workers 2` processes
    one, two = SessionStore(hub.ctx.factory), SessionStore(hub.ctx.factory)
    sid, made = one.create(hub.operator)
    # Assert: the other process knows the session; the database holds hashes only
    assert two.get(sid) == made
    with hub.ctx.factory() as s:
        stored = [(r.sid_hash, r.token_hash) for r in s.scalars(select(Row))]
    assert all(sid not in row and hub.operator not in row for row in stored)
    # Execute / Assert: logging out through one process ends the session in the other
    one.drop(sid)
    assert two.get(sid) is None

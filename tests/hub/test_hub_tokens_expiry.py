"""Token expiry and revocation: expired and revoked tokens fail at once, cached or not; upgrades keep old tokens."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text, update
from typer.testing import CliRunner

from hub.cli import app
from hub.db.migrate import alembic_config, upgrade
from hub.db.models import Operator, Site, utcnow
from hub.db.session import make_engine, make_session_factory
from hub.services import principals
from hub.services.principals import add_operator, add_site, authenticate, revoke_operator
from hub.services.tokens import hash_token, parse_lifetime

EXPIRY_REVISION = "0004_token_expiry"


def _versions(hub, token):
    return hub.client.get("/v1/versions", headers=hub.auth(token))


def test_new_tokens_expire_by_default_and_never_on_request(hub):
    site = add_site(hub.ctx.factory, center="E", name=None, actor="test")
    forever = add_site(hub.ctx.factory, center="F", name=None, actor="test", lifetime=None)
    with hub.ctx.factory() as s:
        expiries = principals.site_expiries(s)
    assert timedelta(days=364) < expiries[site.site.id] - utcnow() <= timedelta(days=365)
    assert expiries[forever.site.id] is None
    assert _versions(hub, forever.token).status_code == 200


def test_expired_site_token_is_refused_with_token_expired(hub):
    site = add_site(hub.ctx.factory, center="E", name=None, actor="test")
    with hub.ctx.factory() as s:
        s.execute(update(Site).where(Site.id == site.site.id).values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    r = _versions(hub, site.token)
    assert (r.status_code, r.json()["code"]) == (401, "token_expired")
    assert r.headers["content-type"].startswith("application/problem+json") and "expired at" in r.json()["detail"]


def test_cached_token_is_refused_once_its_expiry_passes(hub, monkeypatch):
    # Prepare: a one-hour operator token, authenticated (and cached) once
    hub.ctx.principals.recheck_s = 3600
    _, token = add_operator(hub.ctx.factory, name="short", actor="test", lifetime=timedelta(hours=1))
    assert _versions(hub, token).status_code == 200
    reads = hub.ctx.principals.reads
    # Execute: two hours pass on the clock (the cache is not re-read in between)
    later = utcnow() + timedelta(hours=2)
    monkeypatch.setattr(principals, "utcnow", lambda: later)
    r = _versions(hub, token)
    # Assert
    assert (r.status_code, r.json()["code"]) == (401, "token_expired")
    assert hub.ctx.principals.reads == reads  # refused from the cache, by the clock


def test_token_checks_hit_the_cache_not_the_database(hub):
    hub.ctx.principals.recheck_s = 3600
    for _ in range(5):
        assert _versions(hub, hub.site_a).status_code == 200
        assert hub.client.post("/v1/recommendations", json={"fingerprint": {"case_count": 3}},
                               headers=hub.auth(hub.site_a)).status_code == 200
    assert hub.ctx.principals.reads == 1


def test_revoked_operator_token_fails_on_the_very_next_request(hub):
    # Prepare: a second operator whose token is cached and trusted for an hour
    hub.ctx.principals.recheck_s = 3600
    op_id, token = add_operator(hub.ctx.factory, name="second", actor="test")
    assert _versions(hub, token).status_code == 200
    # Execute
    info = revoke_operator(hub.ctx.factory, operator_id=op_id, actor="test")
    r = _versions(hub, token)
    # Assert
    assert info.revoked
    assert (r.status_code, r.json()["code"]) == (401, "token_revoked")
    assert _versions(hub, hub.operator).status_code == 200  # the other operator still works


def test_revocation_by_another_process_is_seen_after_the_recheck_interval(hub):
    # Prepare: the token is cached here; another process revokes it straight in the database
    assert _versions(hub, hub.site_d).status_code == 200
    with hub.ctx.factory() as s:
        s.execute(update(Site).where(Site.id == hub.site_d_id).values(revoked=True))
        s.commit()
    # Execute: the recheck interval has passed
    hub.ctx.principals.recheck_s = 0
    r = _versions(hub, hub.site_d)
    # Assert
    assert (r.status_code, r.json()["code"]) == (401, "token_revoked")


def test_unknown_tokens_are_not_cached(hub):
    hub.ctx.principals.recheck_s = 3600
    for i in range(3):
        assert _versions(hub, f"mhs_made-up-{i}").json()["code"] == "bad_token"
    assert hub.ctx.principals.reads == 0


@pytest.mark.parametrize(("text_", "expected"), [("90d", timedelta(days=90)), ("12h", timedelta(hours=12)),
                                                 ("30m", timedelta(minutes=30)), (" 7D ", timedelta(days=7)),
                                                 ("never", None)])
def test_parse_lifetime(text_, expected):
    assert parse_lifetime(text_) == expected


@pytest.mark.parametrize("bad", ["5y", "-3d", "0d", "d", "", "1.5d"])
def test_parse_lifetime_rejects_with_a_sentence(bad):
    with pytest.raises(ValueError, match="is not a lifetime"):
        parse_lifetime(bad)


def test_cli_operator_expiry_and_revocation(settings):
    runner = CliRunner()
    extra = ["--data-dir", str(settings.data_dir)] + (["--db", settings.db] if settings.db else [])
    bad = runner.invoke(app, ["operators", "add", "--name", "x", "--expires-in", "5y", *extra])
    assert bad.exit_code == 1 and "is not a lifetime" in bad.output and "Traceback" not in bad.output
    added = runner.invoke(app, ["operators", "add", "--name", "x", "--expires-in", "never", "--json", *extra])
    assert added.exit_code == 0, added.output
    assert '"expires_at": null' in added.stdout
    revoked = runner.invoke(app, ["operators", "revoke", "1", "--json", *extra])
    assert revoked.exit_code == 0 and '"revoked": true' in revoked.stdout
    listed = runner.invoke(app, ["operators", "list", *extra])
    assert listed.exit_code == 0 and "True" in listed.stdout
    missing = runner.invoke(app, ["operators", "revoke", "42", *extra])
    assert missing.exit_code == 1 and "operator 42 does not exist" in missing.output
    site = runner.invoke(app, ["sites", "add", "--center", "D", "--expires-in", "2h", "--json", *extra])
    assert site.exit_code == 0, site.output
    listed_sites = runner.invoke(app, ["sites", "list", "--json", *extra])
    expires = json.loads(listed_sites.stdout)[0]["expires_at"]
    assert expires == json.loads(site.stdout)["expires_at"] and expires is not None


def test_upgrade_keeps_existing_tokens_working_without_expiry(settings):
    # Prepare: a database at the revision before expiry, with a site and an operator
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.db_url)
    before = ScriptDirectory.from_config(alembic_config(engine)).get_revision(EXPIRY_REVISION).down_revision
    upgrade(engine, before)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO centers (id, code) VALUES (1, 'A')"))
        conn.execute(text("INSERT INTO sites (id, center_id, token_hash, scopes, revoked, created_at) "
                          "VALUES (1, 1, :h, 'site', false, CURRENT_TIMESTAMP)"), {"h": hash_token("mhs_old")})
        conn.execute(text("INSERT INTO operators (id, name, token_hash, revoked, created_at) "
                          "VALUES (1, 'old', :h, false, CURRENT_TIMESTAMP)"), {"h": hash_token("mho_old")})
    # Execute
    upgrade(engine)
    # Assert
    factory = make_session_factory(engine)
    with factory() as s:
        assert authenticate(s, "mhs_old").center == "A" and authenticate(s, "mho_old").name == "old"
        assert s.get(Site, 1).expires_at is None and s.get(Operator, 1).expires_at is None
    engine.dispose()


def test_a_revocation_by_another_process_ends_a_cached_token_at_once(hub):
    import subprocess
    import sys

    from hub.services.auth_cache import PrincipalCache
    from hub.services.tokens import REVOCATION_STAMP

    # Prepare: a cache that would trust its entry for an hour, holding a fresh entry for a new site's token
    site = add_site(hub.ctx.factory, center="E", name=None, actor="test")
    cache = PrincipalCache(recheck_s=3600, stamp_path=hub.ctx.settings.data_dir / REVOCATION_STAMP)
    assert cache.authenticate(hub.ctx.factory, site.token).center == "E"
    assert cache.cached(site.token) is not None
    # Execute: the operator revokes the site from the command line (another process, same data folder)
    db = ["--db", hub.ctx.settings.db] if hub.ctx.settings.db else []
    done = subprocess.run([sys.executable, "-m", "hub", "sites", "revoke", str(site.site.id), "--data-dir",
                           str(hub.ctx.settings.data_dir), *db, "--json"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # Assert: the entry is no longer trusted, and the database refuses the token on the very next check
    assert cache.cached(site.token) is None
    with pytest.raises(Exception, match="revoked"):
        cache.authenticate(hub.ctx.factory, site.token)

"""The operator console in a real headless Chromium (Debian's) against ``hub serve`` on loopback.

Needs /usr/bin/chromium (apt package ``chromium``) and Playwright for Python; Playwright drives the
system browser through ``executable_path`` and never downloads one. Skipped when the browser is
absent, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from hub.context import build_context
from hub.services.principals import add_operator, add_site
from hub.services.publish import publish
from hub.settings import HubSettings
from tests.hub.hubfake import make_model_dir, push_bytes, push_form, push_manifest
from tests.hub.served import HubProcess

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT_COPY = Path("/tmp/console_screenshot.png")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _need(ok: bool, reason: str) -> None:
    if ok:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI installs it (apt-get install chromium, pip install -e '.[dev]')")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A seeded ``hub serve``: version 1.0 (routers A, B), a pushed router for D, an operator token."""
    data = tmp_path_factory.mktemp("console") / "hub-data"
    ctx = build_context(HubSettings(data_dir=data))
    publish(factory=ctx.factory, store=ctx.store, signer=ctx.signer, version="1.0",
            model_dir=make_model_dir(tmp_path_factory.mktemp("model")))
    _, operator = add_operator(ctx.factory, name="hub-ops", actor="test")
    site = add_site(ctx.factory, center="D", name="Hospital D", actor="test")
    ctx.factory.kw["bind"].dispose()
    server = HubProcess(data, timeout_s=30)
    base = server.base
    try:
        payload = push_bytes("D")
        activation = {f"activation.level{lv}.{e}": share for lv, shares in enumerate([(0.7, 0.3), (0.45, 0.55),
                                                                                    (0.2, 0.8)])
                      for e, share in enumerate(shares)}
        manifest = push_manifest(payload, "D", init_router="A",
                                 metrics={"heldout_dice_after": 0.82, "val_dice_after": 0.8, **activation})
        r = httpx.post(f"{base}/v1/routers", files=push_form(payload, manifest),
                       headers={"Authorization": f"Bearer {site.token}"}, timeout=30)
        assert r.status_code == 201, r.text
        yield base, operator, r.json()["router"]["id"]
    finally:
        server.stop()


@pytest.fixture
def browser_page(tmp_path):
    _need(CHROMIUM.is_file(), f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1360, "height": 900})
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()


def test_console_login_versions_routers_and_lineage(served, browser_page, tmp_path):
    base, operator, pushed = served
    page = browser_page

    # Anonymous: any console page lands on the login form, which shows no data.
    page.goto(f"{base}/console/versions")
    assert page.url == f"{base}/console/login"
    assert page.locator("input[name=token]").is_visible()
    assert "1.0" not in page.inner_text("main")

    # A wrong token stays on the login page with an error.
    page.fill("input[name=token]", "mho_this-is-not-a-token")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith("Log-in refused")
    assert page.url == f"{base}/console/login"

    # The operator token opens the console; the seeded versions and routers are listed.
    page.fill("input[name=token]", operator)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/")
    page.click("nav >> text=Model versions")
    assert page.locator("table a", has_text="1.0").first.is_visible()
    page.click("nav >> text=Routers")
    for center in ("A", "B", "D"):
        assert page.locator("h2", has_text=f"Center {center}").is_visible()

    # Following the pushed router shows its lineage: version 1.0, started from A's router, pushed by site D.
    page.click(f"a[href='/console/routers/{pushed}']")
    page.wait_for_url(f"{base}/console/routers/{pushed}")
    flow = page.locator("ol.flow").inner_text()
    assert "1.0" in flow and "Hospital D" in flow and "#1 A" in flow
    page.click("ol.flow >> text=#1 A")
    page.wait_for_url(f"{base}/console/routers/1")

    page.goto(f"{base}/console/")
    page.screenshot(path=str(tmp_path / "console_overview.png"), full_page=True)
    page.goto(f"{base}/console/routers/{pushed}")
    assert page.locator("svg.heat rect").count() == 6  # expert activation: 3 layers x 2 experts
    shot = tmp_path / "console_router_lineage.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    shutil.copyfile(shot, SCREENSHOT_COPY)
    print(f"console screenshot: {shot} (copied to {SCREENSHOT_COPY})")

    # Logging out returns to the login page and the session no longer opens pages.
    page.click("text=Log out")
    page.wait_for_url(f"{base}/console/login")
    page.goto(f"{base}/console/routers")
    assert page.url == f"{base}/console/login"

"""Behind a sign-in proxy (trusted-header mode) in a real browser: who sees and does what.

The proxy is played by Playwright's `extra_http_headers`: every request of a browser context,
the websocket's among them, carries `X-Forwarded-Email` as a proxy would set it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import choose_month, loose, open_tab, screenshot, settled

HEADER_ARGS = '--server.trustedUserHeaders \'{"X-Forwarded-Email": "email"}\''
BILLER = "bill@example.org"
VIEWER = "vera@example.org"


@pytest.fixture
def proxied_app(start_app: Any, tmp_path: Path) -> Any:
    return start_app(
        run_args=HEADER_ARGS,
        INVOICE_DIR=str(tmp_path / "invoices"),
        SALES_AUTH_MODE="header",
        SALES_VIEWER_DOMAINS="example.org",
        SALES_BILLERS=BILLER,
        SALES_ACCESS_CONTACT="console-admins@example.org",
    )


@pytest.fixture
def as_person(browser: Browser) -> Iterator[Any]:
    """A function opening a tab whose requests carry the proxy's header (or none)."""
    contexts = []

    def open_tab(email: str | None) -> Page:
        headers = {"X-Forwarded-Email": email} if email else {}
        context = browser.new_context(
            viewport={"width": 1400, "height": 1800}, extra_http_headers=headers
        )
        contexts.append(context)
        return context.new_page()

    yield open_tab
    for context in contexts:
        context.close()


def open_invoices(page: Page, url: str) -> None:
    page.goto(f"{url}/invoices")


def assert_no_navigation(page: Page) -> None:
    """Not one page name: someone without access learns nothing of the console's pages."""
    settled(page)
    assert page.get_by_test_id("stSidebarNav").count() == 0
    for title in ("Overview", "Pipeline", "Revenue", "Qualify a lead", "Invoices", "Data health"):
        assert page.get_by_role("link", name=title, exact=True).count() == 0, title


def confirm_the_gaps(page: Page) -> None:
    """The demo leaves earlier months unbilled: a biller confirms billing November first."""
    gaps = page.get_by_text(re.compile(r"^Yes, bill 2026-11 before"))
    if gaps.count():
        gaps.click()
        settled(page)


def choose_november(page: Page) -> None:
    choose_month(page, "2026-11")
    confirm_the_gaps(page)


def test_biller_generates_viewer_reads_stranger_and_nobody_refused(
    proxied_app: Any, as_person: Any
) -> None:
    url = proxied_app.url

    biller = as_person(BILLER)
    open_invoices(biller, url)
    expect(biller.get_by_role("heading", name="Monthly invoice run")).to_be_visible(timeout=60_000)
    expect(biller.get_by_text(loose(f"Signed in as {BILLER} (biller)"))).to_be_visible()
    choose_november(biller)
    generate = biller.get_by_role("button", name=re.compile(r"^Generate \d+ invoices$"))
    expect(generate).to_be_enabled(timeout=30_000)
    count = int(generate.inner_text().split()[1])
    generate.click()
    expect(biller.get_by_text(re.compile(rf"Made {count} invoices?: INV-2026-\d+"))).to_be_visible(
        timeout=60_000
    )
    assert biller.get_by_test_id("stException").count() == 0
    screenshot(biller, "access-biller-generated")

    viewer = as_person(VIEWER)
    open_invoices(viewer, url)
    expect(viewer.get_by_role("heading", name="Monthly invoice run")).to_be_visible(timeout=60_000)
    expect(viewer.get_by_text(loose(f"Signed in as {VIEWER} (viewer)"))).to_be_visible()
    expect(viewer.get_by_text("Read-only.")).to_be_visible()
    choose_november(viewer)
    assert viewer.get_by_role("button", name=re.compile(r"^Generate")).count() == 0
    open_tab(viewer, "Invoices made here")
    expect(viewer.get_by_text("Invoices generated here")).to_be_visible(timeout=30_000)
    for name in ("Authorize", "Mark paid", "Void", "Push now"):
        assert viewer.get_by_role("button", name=name, exact=True).count() == 0
    expect(
        viewer.get_by_text("Authorize, Mark paid and Void need the biller role.")
    ).to_be_visible()
    screenshot(viewer, "access-viewer-read-only")

    stranger = as_person("mallory@evil-example.org")
    stranger.goto(url)
    expect(stranger.get_by_text("You do not have access to this console.")).to_be_visible(
        timeout=60_000
    )
    expect(stranger.get_by_text("mallory@evil-example.org")).to_be_visible()
    expect(stranger.get_by_text("console-admins@example.org")).to_be_visible()
    assert stranger.get_by_test_id("stMetric").count() == 0
    assert stranger.get_by_test_id("stDataFrame").count() == 0
    assert_no_navigation(stranger)
    stranger.goto(f"{url}/invoices")  # a deep link leads to the same refusal
    expect(stranger.get_by_text("You do not have access to this console.")).to_be_visible(
        timeout=60_000
    )
    assert_no_navigation(stranger)
    screenshot(stranger, "access-stranger-refused")

    garbage = as_person("<b>not an email</b>; DROP TABLE")
    garbage.goto(url)
    expect(garbage.get_by_text("You do not have access to this console.")).to_be_visible(
        timeout=60_000
    )
    assert_no_navigation(garbage)

    nobody = as_person(None)
    nobody.goto(f"{url}/invoices")
    expect(
        nobody.get_by_text(re.compile("did not send the X-Forwarded-Email header"))
    ).to_be_visible(timeout=60_000)
    assert nobody.get_by_test_id("stMetric").count() == 0
    assert nobody.get_by_test_id("stDataFrame").count() == 0
    assert nobody.get_by_role("button").filter(has_text="Generate").count() == 0
    assert_no_navigation(nobody)
    screenshot(nobody, "access-no-header-refused")

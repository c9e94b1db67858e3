"""The invoice run in a real browser: preview -> generate -> download a PDF -> void one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import choose_month, open_tab, screenshot, settled


def test_preview_generate_download_void(start_app: Any, page: Page, tmp_path: Path) -> None:
    app = start_app(INVOICE_DIR=str(tmp_path / "invoices"))
    page.goto(f"{app.url}/invoices")
    expect(page.get_by_role("heading", name="Monthly invoice run")).to_be_visible(timeout=60_000)

    # Choose November 2026 (the demo's current month).
    choose_month(page, "2026-11")
    expect(page.get_by_text("Earlier months are not billed yet: 2026-01, 2026-05.")).to_be_visible()
    page.get_by_text(re.compile(r"^Yes, bill 2026-11 before")).click()
    settled(page)
    generate = page.get_by_role("button", name=re.compile(r"^Generate \d+ invoices$"))
    expect(generate).to_be_enabled(timeout=30_000)
    count = int(generate.inner_text().split()[1])
    # Yen have no minor unit: a whole number (the worked example's fee plus its cloud costs).
    expect(page.get_by_test_id("stMetric").filter(has_text="Total JPY")).to_have_text(
        re.compile(r"^Total JPY\s*[\d,]+\s*$")
    )
    screenshot(page, "invoices-preview")

    generate.click()
    expect(page.get_by_text(re.compile(rf"Made {count} invoices?: INV-2026-\d+"))).to_be_visible(
        timeout=60_000
    )
    expect(page.get_by_role("button", name="Generate 0 invoices")).to_be_disabled()

    # Download the chosen invoice's PDF, on the tab of the invoices made here (in the URL).
    open_tab(page, "Invoices made here")
    assert "section=Invoices+made+here" in page.url
    download_button = page.get_by_role("button", name=re.compile(r"^Download INV-2026-\d+\.pdf$"))
    with page.expect_download() as info:
        download_button.click()
    saved = tmp_path / "downloaded.pdf"
    info.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")

    # Void it, with a reason.
    page.get_by_label("Void reason").fill("Fee entered twice – voided by the e2e test")
    page.get_by_role("button", name="Void", exact=True).click()
    expect(page.get_by_text(re.compile(r"INV-2026-\d+ is now Void"))).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile(r"A Void invoice does not change any more"))).to_be_visible()
    assert page.get_by_test_id("stException").count() == 0
    screenshot(page, "invoices-after-void")

"""A whole month end in a real browser, against a loopback AirTable and a loopback SMTP server.

One user path, as a biller closes a month: sync; see the months not billed yet and bill them
oldest first; bill the current month; authorize every draft at once; send the invoices; record
a partial payment, then the rest; send the reminders of overdue invoices; export for Xero.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sales_core.billing import Month
from tests.conftest import SELLER_ENV, serve_demo
from tests.e2e.conftest import choose_month, open_tab, screenshot, settled
from tests.fake_airtable import FakeAirtable
from tests.test_delivery import Inbox, smtp  # noqa: F401  (the SMTP fixture)

TOKEN = "test-token-0123456789"
BASE = "appTESTBASE000001"


@pytest.fixture
def base() -> Iterator[FakeAirtable]:
    with FakeAirtable(token=TOKEN, base_id=BASE) as server:
        serve_demo(server)
        yield server
    assert not server.internal_errors, server.internal_errors[0]


def generate_now(page: Page) -> str:
    """Press Generate and return the success line."""
    button = page.get_by_role("button", name=re.compile(r"^Generate \d+ invoices?$"))
    expect(button).to_be_enabled(timeout=60_000)
    button.click()
    made = page.get_by_text(re.compile(r"^Made \d+ invoices?: INV-\d{4}-\d+"))
    expect(made).to_be_visible(timeout=120_000)
    text = made.inner_text()
    settled(page)
    return text


def test_a_month_end_from_sync_to_export(
    start_app: Any,
    page: Page,
    tmp_path: Path,
    base: FakeAirtable,
    smtp: tuple[Inbox, int],  # noqa: F811
) -> None:
    inbox, port = smtp
    app = start_app(
        **SELLER_ENV,
        AIRTABLE_API_KEY=TOKEN,
        AIRTABLE_BASE_ID=BASE,
        AIRTABLE_ENDPOINT_URL=base.endpoint_url,
        AIRTABLE_REQUESTS_PER_SECOND="200",
        AIRTABLE_MAX_RETRIES="0",
        INVOICE_DIR=str(tmp_path / "invoices"),
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(port),
        SMTP_STARTTLS="false",
        INVOICE_FROM_EMAIL="billing@example.org",
        REMINDER_DAYS="7,30,60",
    )
    page.goto(f"{app.url}/invoices")
    page.get_by_role("button", name=re.compile("Sync now")).click()
    expect(page.get_by_text(re.compile(r"^Loaded .* opportunities"))).to_be_visible(timeout=120_000)
    settled(page)

    # The months not billed yet, billed oldest first ("Go to" the oldest, then the next ones).
    this_month = str(Month.of(date.today()))
    warning = page.get_by_text(re.compile(r"^Earlier months are not billed yet: "))
    expect(warning).to_be_visible(timeout=60_000)
    assert warning.inner_text().startswith("Earlier months are not billed yet: 2026-01, ")
    assert "2026-11" in warning.inner_text()
    screenshot(page, "month-end-unbilled")
    # "Go to" the oldest month left and bill it, until none is left before this month.
    for _ in range(24):
        go_to = page.get_by_role("button", name=re.compile(r"^Go to \d{4}-\d{2}$"))
        if not go_to.count():
            break
        oldest = go_to.inner_text().removeprefix("Go to ")
        go_to.click()
        settled(page)
        box = page.get_by_test_id("stSelectbox").first.get_by_role("combobox")
        expect(box).to_have_value(oldest)
        generate_now(page)
        choose_month(page, this_month)
    # Now the current month, with nothing earlier left.
    choose_month(page, this_month)
    expect(page.get_by_text(re.compile(r"^Earlier months are not billed yet"))).to_have_count(0)
    generate_now(page)
    screenshot(page, "month-end-billed")

    # Authorize every draft at once, on the tab of the invoices made here.
    open_tab(page, "Invoices made here")
    authorize = page.get_by_role("button", name=re.compile(r"^Authorize \d+$"))
    expect(authorize).to_be_visible(timeout=30_000)
    authorize.click()
    expect(page.get_by_text(re.compile(r"^Authorized \d+ invoices: INV-"))).to_be_visible(
        timeout=60_000
    )
    settled(page)

    # Send: the Receivables tab shows what would go out, then sends it.
    open_tab(page, "Receivables")
    send = page.get_by_role("button", name=re.compile(r"^Send \d+ invoice emails?$"))
    expect(send).to_be_visible(timeout=60_000)
    count = int(send.inner_text().split()[1])
    screenshot(page, "month-end-before-send")
    send.click()
    expect(page.get_by_text(re.compile(rf"^Sent {count} invoice emails?"))).to_be_visible(
        timeout=180_000
    )
    settled(page)
    assert len(inbox.received) == count
    recipients, message = inbox.received[0]
    assert recipients and message["Subject"]
    assert any(part.get_filename().endswith(".pdf") for part in message.iter_attachments())

    # A partial payment, then the rest (the amount box offers the balance).
    amount = page.get_by_label(re.compile(r"^Amount \([A-Z]{3}\)$")).first
    due = amount.input_value().replace(",", "")
    half = f"{float(due) / 2:.0f}" if "." not in due else f"{float(due) / 2:.2f}"
    amount.fill(half)
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_text(re.compile(r"recorded; paid so far .* \(Authorized\)"))).to_be_visible(
        timeout=60_000
    )
    settled(page)
    page.get_by_role("button", name="Record payment").click()  # the rest, as offered
    expect(page.get_by_text(re.compile(r"recorded; paid so far .* \(Paid\)"))).to_be_visible(
        timeout=60_000
    )
    settled(page)
    screenshot(page, "month-end-paid")

    # Reminders for the overdue invoices (January's are long past due).
    before = len(inbox.received)
    remind = page.get_by_role("button", name=re.compile(r"^Send \d+ reminders?$"))
    expect(remind).to_be_visible(timeout=60_000)
    reminders = int(remind.inner_text().split()[1])
    remind.click()
    expect(page.get_by_text(re.compile(rf"^Sent {reminders} reminders?"))).to_be_visible(
        timeout=180_000
    )
    settled(page)
    assert len(inbox.received) == before + reminders
    assert any("eminder" in str(m["Subject"]) for _, m in inbox.received[before:])

    # The accounting export of the current month, under its run.
    open_tab(page, "Monthly run")
    page.get_by_text(re.compile(rf"^Accounting export of {this_month}")).click()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download for Xero (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text("utf-8-sig"))))
    assert rows and all(r["*InvoiceNumber"].startswith("INV-") for r in rows)
    assert page.get_by_test_id("stException").count() == 0
    screenshot(page, "month-end-done")
    # AirTable hears of it all with the next push: the payments and when each was sent.
    open_tab(page, "Invoices made here")
    push = page.get_by_role("button", name="Push now")
    if push.count():
        push.click()
        expect(page.get_by_text(re.compile(r"^Sent \d+ invoices to AirTable"))).to_be_visible(
            timeout=120_000
        )
    there = [r["fields"] for r in base.records("Invoices") if r["fields"].get("Invoice Key")]
    assert any(f.get("Status") == "Paid" and f.get("Amount Paid") for f in there)
    assert any(f.get("Sent At") for f in there)

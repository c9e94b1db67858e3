"""Sending invoices and reminders to a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from sales_core import delivery, ledger, store
from sales_core.access import Actor
from sales_core.config import Settings
from sales_core.delivery_settings import DeliverySettings, parse_delivery
from sales_core.errors import ConfigError, SalesError
from sales_core.invoicing import generate
from sales_core.sync import run_sync
from tests.conftest import NOVEMBER, free_port_number, numbers_of
from tests.test_pdf import pdf_text

BILLER = Actor("a@example.org", "biller")
TODAY = date(2026, 11, 25)


class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.lock = threading.Lock()
        self.refuse: set[str] = set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port_number()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def configured(settings: Settings, port: int, **extra: Any) -> Settings:
    mail = DeliverySettings(
        host="127.0.0.1",
        port=port,
        starttls=False,
        from_email="billing@example.org",
        bcc=("archive@example.org",),
        **extra,
    )
    return replace(settings, delivery=mail)


def billed(settings: Settings) -> list[str]:
    numbers = numbers_of(generate(settings, NOVEMBER, actor=BILLER))
    ledger.authorize_many(settings, numbers, actor=BILLER)
    return numbers


def test_each_authorized_invoice_goes_once_with_its_pdf(
    demo: Settings, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    settings = configured(demo, port)
    numbers = billed(settings)
    planned, skipped = delivery.plan_sends(settings)
    assert {m.numbers[0] for m in planned} | {n for n, _ in skipped} == set(numbers)
    outcome = delivery.send(settings, planned, actor=BILLER, today=TODAY)
    assert len(outcome.sent) == len(planned) and not outcome.failed
    assert len(inbox.received) == len(planned)
    with store.connect(settings.db_path) as con:
        made = (
            con.execute("SELECT number, billing_email, community FROM generated_invoices")
            .df()
            .set_index("number")
        )
    for recipients, message in inbox.received:
        [number] = [n for n in numbers if f"Invoice {n} " in message["Subject"]]
        assert recipients == [made.loc[number, "billing_email"], "archive@example.org"]
        assert message["From"] == "billing@example.org"
        assert "Bcc" not in message  # the copy is on the envelope only
        [attached] = list(message.iter_attachments())
        assert attached.get_filename() == f"{number}.pdf"
        text = pdf_text(attached.get_content(), tmp_path)
        assert number in text and made.loc[number, "community"].split(" ")[0] in text
    # Sent once: a second run finds nothing, and Sent At is recorded.
    again, _ = delivery.plan_sends(settings)
    assert again == []
    assert delivery.send(settings, planned, actor=BILLER, today=TODAY).busy == planned
    assert len(inbox.received) == len(planned)
    assert ledger.generated_invoices(settings)["number"].size == len(numbers)
    assert "send" in set(ledger.audit_log(settings)["action"])


def test_overlapping_runs_never_send_twice(demo: Settings, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = configured(demo, port)
    billed(settings)
    planned, _ = delivery.plan_sends(settings)
    outcomes: list[delivery.Outcome] = []
    runs = [
        threading.Thread(
            target=lambda: outcomes.append(
                delivery.send(settings, planned, actor=BILLER, today=TODAY)
            )
        )
        for _ in range(2)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert sum(len(o.sent) for o in outcomes) == len(planned)
    subjects = [m["Subject"] for _, m in inbox.received]
    assert len(subjects) == len(set(subjects)) == len(planned)


def test_a_refused_recipient_keeps_the_invoice_unsent_and_says_why(
    demo: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = configured(demo, port)
    billed(settings)
    planned, _ = delivery.plan_sends(settings)
    inbox.refuse.add(planned[0].recipient)
    outcome = delivery.send(settings, planned[:3], actor=BILLER, today=TODAY)
    refused = [m for m in planned[:3] if m.recipient == planned[0].recipient]
    assert [m for m, _ in outcome.failed] == refused
    assert "refused the recipient" in outcome.failed[0][1]
    left, _ = delivery.plan_sends(settings)
    assert set(refused) <= set(left)  # still to send, the next run tries again


def test_reminders_once_per_step_with_the_statement(
    demo: Settings, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    settings = configured(demo, port)
    planned, _skipped = delivery.plan_reminders(settings, TODAY)
    assert planned  # the demo has overdue synced invoices
    steps = {m.step for m in planned}
    assert steps <= {"reminder-7", "reminder-30", "reminder-60"}
    outcome = delivery.send(settings, planned, actor=BILLER, today=TODAY)
    assert len(outcome.sent) == len(planned)
    assert delivery.plan_reminders(settings, TODAY)[0] == []  # never twice for a step
    _, first = inbox.received[0]
    [attached] = list(first.iter_attachments())
    assert "STATEMENT OF ACCOUNT" in pdf_text(attached.get_content(), tmp_path)
    assert "days past due" in first["Subject"]


def test_sponsor_delivery_sends_the_month_in_one_email(
    demo: Settings, smtp: tuple[Inbox, int]
) -> None:
    import io
    import zipfile

    inbox, port = smtp
    settings = configured(demo, port, mode="sponsor", sponsor_email="sponsor@example.org")
    numbers = billed(settings)
    [message] = delivery.plan_sends(settings)[0]
    delivery.send(settings, [message], actor=BILLER, today=TODAY)
    [(recipients, email)] = inbox.received
    assert recipients[0] == "sponsor@example.org"
    [attached] = list(email.iter_attachments())
    names = zipfile.ZipFile(io.BytesIO(attached.get_content())).namelist()
    assert names == ["invoices.zip", "summary.csv"]
    assert delivery.plan_sends(settings)[0] == []
    assert len(message.numbers) == len(numbers)


def test_nothing_is_sent_without_smtp_and_the_password_never_shows(
    demo: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from sales_core.cli import main

    billed(demo)
    with pytest.raises(SalesError, match="SMTP is not configured"):
        delivery.send(demo, delivery.plan_sends(demo)[0], actor=BILLER, today=TODAY)
    assert main(["invoices", "send", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["smtp_configured"] is False and out["would_send"]
    secret = parse_delivery(
        {
            "SMTP_HOST": "smtp.example.org",
            "INVOICE_FROM_EMAIL": "b@example.org",
            "SMTP_USERNAME": "u",
            "SMTP_PASSWORD": "hunter2-secret",
        }.get
    )
    assert "hunter2" not in repr(secret)
    with pytest.raises(ConfigError, match="REMINDER_DAYS"):
        parse_delivery({"REMINDER_DAYS": "7,x"}.get)
    with pytest.raises(ConfigError, match="INVOICE_FROM_EMAIL"):
        parse_delivery({"SMTP_HOST": "smtp.example.org"}.get)


def test_a_closed_server_fails_every_message_in_words(demo: Settings) -> None:
    settings = configured(demo, free_port_number())
    billed(settings)
    planned, _ = delivery.plan_sends(settings)
    outcome = delivery.send(settings, planned[:2], actor=BILLER, today=TODAY)
    assert len(outcome.failed) == 2 and not outcome.sent
    assert "failed: ConnectionRefusedError" in outcome.failed[0][1]
    assert len(delivery.plan_sends(settings)[0]) == len(planned)


def test_sent_at_goes_to_airtable(airtable: tuple[Any, Settings], smtp: tuple[Inbox, int]) -> None:
    from sales_core import writeback
    from tests.test_reconcile import in_airtable

    server, plain = airtable
    _inbox, port = smtp
    settings = configured(plain, port)
    made = generate(settings, NOVEMBER, actor=BILLER).created[0]
    ledger.authorize_many(settings, [str(made.number)], actor=BILLER)
    writeback.push_pending(settings, actor=BILLER)
    planned = [m for m in delivery.plan_sends(settings)[0] if m.numbers == (made.number,)]
    delivery.send(settings, planned, actor=BILLER, today=TODAY)
    writeback.push_pending(settings, actor=BILLER)
    assert in_airtable(server, made.invoice_key)["Sent At"].endswith(".000Z")
    run_sync(settings)
    from sales_core import reconcile

    assert reconcile.conflicts(settings).empty

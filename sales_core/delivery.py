"""Sending invoices and reminders by email: the SMTP boundary (smtplib).

- **Send**: each `Authorized` invoice made here and not sent yet goes to its contract's
  `Billing Email` with its PDF (`community` delivery), or the month's invoices go as one email
  with a zip of their PDFs and a CSV summary to the fiscal sponsor (`sponsor` delivery).
- **Remind**: an `Authorized` receivable with a balance, past due by one of `REMINDER_DAYS`,
  gets one reminder for the latest step it reached, with its community's statement attached.

Each message is claimed first, in one INSERT on (invoice, step) that only one run can win, so
two runs at the same time never send the same thing twice. A message that fails to send gives
its claim back (the next run tries again) and says why; one interrupted between the SMTP server
accepting it and the claim being marked sent stays claimed (never sent twice: the audit log and
the mailbox tell). `Sent At` goes to AirTable through the outbox. Nothing is sent unless SMTP is
configured: `plan_*` shows exactly what would go.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage

from sales_core import ledger, money, outbox, store
from sales_core.access import Actor, require
from sales_core.config import Settings
from sales_core.errors import SalesError
from sales_core.export import safe_csv


@dataclass(frozen=True)
class Message:
    """One email that would go out, exactly: for whom, to whom, about what, with what."""

    step: str  # "invoice", "reminder-30", or "month-2026-11" (sponsor delivery)
    keys: tuple[str, ...]  # the invoices it is about (their delivery keys)
    numbers: tuple[str, ...]
    recipient: str
    subject: str
    attachment: str  # the file name attached
    body: str


@dataclass
class Outcome:
    """What one send or remind run did."""

    sent: list[Message] = field(default_factory=list)
    failed: list[tuple[Message, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (number, why)
    busy: list[Message] = field(default_factory=list)  # claimed by another run

    def to_json(self) -> dict[str, object]:
        def shown(m: Message) -> dict[str, object]:
            return {
                "numbers": list(m.numbers),
                "step": m.step,
                "to": m.recipient,
                "subject": m.subject,
                "attachment": m.attachment,
            }

        return {
            "sent": [shown(m) for m in self.sent],
            "failed": [shown(m) | {"error": why} for m, why in self.failed],
            "skipped": [{"number": n, "reason": why} for n, why in self.skipped],
            "busy": [shown(m) for m in self.busy],
        }


def _seller(settings: Settings) -> str:
    return settings.seller.name


# Invoices made here that went out as Authorized and were not sent yet.
_UNSENT_SQL = """
SELECT g.invoice_key, g.number, g.community, g.billing_email, g.amount, g.currency,
       g.due_date, g.issue_date, g.run_month
FROM generated_invoices AS g
WHERE g.status = $authorized AND g.sent_at IS NULL
  AND ($month IS NULL OR g.run_month = $month)
  AND g.invoice_key NOT IN (SELECT invoice_key FROM deliveries WHERE step = 'invoice')
ORDER BY g.number
"""


def plan_sends(
    settings: Settings, month: str | None = None
) -> tuple[list[Message], list[tuple[str, str]]]:
    """The invoice emails a send would make now (of run `month`, or all), and the invoices
    left out with why."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        rows = store.query(con, _UNSENT_SQL, {"month": month})
    seller = _seller(settings)
    delivery = settings.delivery
    messages: list[Message] = []
    skipped: list[tuple[str, str]] = []
    if delivery.mode == "sponsor":
        by_month: dict[str, list[dict[str, object]]] = {}
        for row in rows:
            by_month.setdefault(str(row["run_month"]), []).append(row)
        for run, items in sorted(by_month.items()):
            numbers = tuple(str(r["number"]) for r in items)
            messages.append(
                Message(
                    step=f"month-{run}",
                    keys=tuple(str(r["invoice_key"]) for r in items),
                    numbers=numbers,
                    recipient=str(delivery.sponsor_email or ""),
                    subject=f"Invoices of {run} from {seller}: {len(items)} invoices",
                    attachment=f"invoices-{run}.zip",
                    body=(
                        f"Attached are the {len(items)} invoices of {run} ({numbers[0]} to "
                        f"{numbers[-1]}) as PDFs, with a CSV summary.\n\n{seller}"
                    ),
                )
            )
        return messages, skipped
    for row in rows:
        number = str(row["number"])
        email = str(row["billing_email"] or "").strip()
        if not email:
            skipped.append((number, "the contract has no Billing Email"))
            continue
        total = money.text(row["amount"], str(row["currency"]))
        messages.append(
            Message(
                step="invoice",
                keys=(str(row["invoice_key"]),),
                numbers=(number,),
                recipient=email,
                subject=f"Invoice {number} from {seller}: {total}, due {row['due_date']}",
                attachment=f"{number}.pdf",
                body=(
                    f"Dear {row['community']},\n\nPlease find attached invoice {number} for "
                    f"{total}, due on {row['due_date']}.\n\n{settings.seller.instructions_text}\n\n"
                    f"{seller}"
                ),
            )
        )
    return messages, skipped


# Authorized receivables with a balance past due, with the community's billing email.
_OVERDUE_SQL = """
SELECT coalesce(r.invoice_key, 'airtable:' || r.id) AS key, r.number, r.balance, r.currency,
       r.due_date, datediff('day', r.due_date, $today) AS days, c.community, c.billing_email
FROM receivables AS r LEFT JOIN contracts AS c ON c.id = r.contract_id
WHERE r.status = $authorized AND r.balance > 0 AND r.due_date IS NOT NULL
  AND coalesce(r.type, $receivable) = $receivable AND r.number IS NOT NULL
  AND datediff('day', r.due_date, $today) >= $first_step
ORDER BY days DESC, r.number
"""


def plan_reminders(settings: Settings, today: date) -> tuple[list[Message], list[tuple[str, str]]]:
    """The reminders a remind run would send now: for each overdue invoice, the latest step it
    reached if that step was not reminded yet; and the invoices left out with why."""
    steps = settings.delivery.reminder_days
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        rows = store.query(con, _OVERDUE_SQL, {"today": today, "first_step": min(steps)})
        done = {
            (str(k), str(s))
            for k, s in con.execute("SELECT invoice_key, step FROM deliveries").fetchall()
        }
    seller = _seller(settings)
    messages: list[Message] = []
    skipped: list[tuple[str, str]] = []
    for row in rows:
        days = int(row["days"])
        step = f"reminder-{max(d for d in steps if d <= days)}"
        key, number = str(row["key"]), str(row["number"])
        if (key, step) in done:
            continue
        email = str(row["billing_email"] or "").strip()
        if not email:
            skipped.append((number, "the contract has no Billing Email"))
            continue
        balance = money.text(row["balance"], str(row["currency"]))
        messages.append(
            Message(
                step=step,
                keys=(key,),
                numbers=(number,),
                recipient=email,
                subject=f"Reminder: invoice {number} is {days} days past due ({balance})",
                attachment=f"statement-{number}.pdf",
                body=(
                    f"Dear {row['community']},\n\nInvoice {number} was due on {row['due_date']}"
                    f" and {balance} is still open. The attached statement lists every open "
                    f"invoice.\n\n{settings.seller.instructions_text}\n\n{seller}"
                ),
            )
        )
    return messages, skipped


def _attachment(settings: Settings, message: Message, today: date) -> tuple[bytes, str, str]:
    """The attached file's bytes and MIME type of one message."""
    if message.step == "invoice":
        return ledger.invoice_pdf(settings, message.numbers[0]), "application", "pdf"
    if message.step.startswith("month-"):
        import io
        import zipfile

        from sales_core.invoice_views import zip_of_pdfs

        summary = ledger.generated_invoices(settings)
        summary = summary[summary["number"].isin(message.numbers)]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("invoices.zip", zip_of_pdfs(settings, list(message.numbers)))
            archive.writestr(
                "summary.csv",
                safe_csv(
                    summary[["number", "community", "amount", "currency", "issue_date", "due_date"]]
                ),
            )
        return buffer.getvalue(), "application", "zip"
    from sales_core.metrics import statements

    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        found = con.execute(
            "SELECT coalesce(c.community, '(contract not found)') FROM receivables AS r "
            "LEFT JOIN contracts AS c ON c.id = r.contract_id WHERE r.number = ?",
            [message.numbers[0]],
        ).fetchall()
    community = str(found[0][0]) if found else ""
    return statements.statement_pdf(settings, community, today), "application", "pdf"


def _step(message: Message) -> str:
    """The step recorded per invoice: a sponsor's monthly email sends each invoice in it."""
    return "invoice" if message.step.startswith("month-") else message.step


def _claim(settings: Settings, messages: list[Message]) -> tuple[list[Message], list[Message]]:
    """Take the messages for this run, all in one transaction: (taken here, held by another
    run). A message any part of which another run holds or sent is not taken at all."""
    won: list[Message] = []
    busy: list[Message] = []
    with (
        ledger.write_lock,  # one writer at a time in this process; other processes wait
        store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con,
    ):
        now = store.utcnow()
        for message in messages:
            step = _step(message)
            taken: list[str] = []
            for key, number in zip(message.keys, message.numbers, strict=True):
                if con.execute(
                    "INSERT INTO deliveries (invoice_key, step, number, recipient, subject, "
                    "state, claimed_at) VALUES (?, ?, ?, ?, ?, 'sending', ?) "
                    "ON CONFLICT DO NOTHING RETURNING invoice_key",
                    [key, step, number, message.recipient, message.subject, now],
                ).fetchall():
                    taken.append(key)
            if len(taken) == len(message.keys):
                won.append(message)
                continue
            for key in taken:  # part of it is another run's: give back what was taken here
                con.execute(
                    "DELETE FROM deliveries WHERE invoice_key = ? AND step = ?", [key, step]
                )
            busy.append(message)
    return won, busy


def _release(settings: Settings, message: Message, error: str, actor: Actor) -> None:
    step = _step(message)
    with (
        ledger.write_lock,
        store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con,
    ):
        for key in message.keys:
            con.execute("DELETE FROM deliveries WHERE invoice_key = ? AND step = ?", [key, step])
        ledger.audit(con, actor.label, "send failed", list(message.numbers), detail=error[:500])


def _mark_sent(settings: Settings, message: Message, actor: Actor) -> None:
    step = _step(message)
    now = store.utcnow()
    with (
        ledger.write_lock,
        store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con,
    ):
        for key in message.keys:
            con.execute(
                "UPDATE deliveries SET state = 'sent', sent_at = ? WHERE invoice_key = ? "
                "AND step = ?",
                [now, key, step],
            )
            if step == "invoice":
                store.execute(
                    con,
                    f"UPDATE generated_invoices SET sent_at = $now, updated_at = $now, "
                    f"{outbox.QUEUED} WHERE invoice_key = $key",
                    {"now": now, "key": key},
                )
        action = "remind" if step.startswith("reminder") else "send"
        ledger.audit(
            con,
            actor.label,
            action,
            list(message.numbers),
            detail=f"to {message.recipient}: {message.subject}",
        )
        store.bump_data_version(con, history=False)  # what was sent, not what was billed


Connect = Callable[[Settings], smtplib.SMTP]


def connect(settings: Settings) -> smtplib.SMTP:
    """An SMTP session with the configured server (STARTTLS and login when set)."""
    delivery = settings.delivery
    server = smtplib.SMTP(str(delivery.host), delivery.port, timeout=30)
    if delivery.starttls:
        server.starttls(context=ssl.create_default_context())
    if delivery.username:
        server.login(delivery.username, str(delivery.password))
    return server


def _describe(exc: Exception, settings: Settings) -> str:
    """An SMTP failure in words, without the password."""
    text = str(exc)
    password = settings.delivery.password
    if password:
        text = text.replace(password, "••••")
    where = f"{settings.delivery.host}:{settings.delivery.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return f"The SMTP server {where} refused the login of SMTP_USERNAME (check the password)."
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"The SMTP server {where} refused the recipient: {text[:200]}"
    if isinstance(exc, OSError | smtplib.SMTPException):
        return f"Sending through {where} failed: {type(exc).__name__}: {text[:200]}"
    return f"Unexpected error {type(exc).__name__}: {text[:200]}"


def send(
    settings: Settings,
    messages: list[Message],
    *,
    actor: Actor,
    today: date,
    connector: Connect = connect,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Send the messages, each once; never raises for an SMTP fault (the outcome says why).

    Raises AccessDenied unless `actor` is a biller, and SalesError when SMTP is not configured.
    """
    require(actor, "biller", "send invoices and reminders")
    delivery = settings.delivery
    if not delivery.configured:
        raise SalesError(
            "Nothing is sent: SMTP is not configured (set SMTP_HOST and INVOICE_FROM_EMAIL)."
        )
    outcome = Outcome()
    mine, outcome.busy = _claim(settings, messages) if messages else ([], [])
    # Minutes of SMTP for many messages: the file is not held meanwhile, so that the command
    # line can take its turns between them (store.released).
    with store.released(settings.db_path):
        _send_claimed(settings, mine, outcome, actor, today, connector, progress)
    return outcome


def _send_claimed(
    settings: Settings,
    mine: list[Message],
    outcome: Outcome,
    actor: Actor,
    today: date,
    connector: Connect,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Send each claimed message; a failure releases its claim and is told in `outcome`."""
    delivery = settings.delivery
    server: smtplib.SMTP | None = None
    try:
        for done, message in enumerate(mine, start=1):
            try:
                data, main, sub = _attachment(settings, message, today)
                email = EmailMessage()
                email["From"] = str(delivery.from_email)
                email["To"] = message.recipient
                email["Subject"] = message.subject
                email.set_content(message.body)
                email.add_attachment(data, maintype=main, subtype=sub, filename=message.attachment)
                if server is None:
                    server = connector(settings)
                refused = server.send_message(
                    email,
                    from_addr=str(delivery.from_email),
                    to_addrs=[message.recipient, *delivery.bcc],
                )
                if message.recipient in refused:  # the Bcc took it, the recipient did not
                    raise smtplib.SMTPRecipientsRefused(
                        {message.recipient: refused[message.recipient]}
                    )
            except Exception as exc:  # one failure never stops the rest, nor loses a claim
                why = exc.args[0] if isinstance(exc, SalesError) else _describe(exc, settings)
                _release(settings, message, str(why), actor)
                outcome.failed.append((message, str(why)))
                if isinstance(exc, OSError | smtplib.SMTPServerDisconnected):
                    server = None  # the connection is gone: the next message reconnects
                continue
            _mark_sent(settings, message, actor)
            outcome.sent.append(message)
            if progress is not None:
                progress(done, len(mine))
    finally:
        if server is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                server.quit()

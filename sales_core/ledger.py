"""The invoices made here, after the run: their states, the tables and PDFs, the audit log.

The run itself (plan, number, insert, PDFs, push) is `invoicing.py`; both take `write_lock`, so a
state change and a run in this process never interleave.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from sales_core import pdf, store
from sales_core.access import Actor, require
from sales_core.billing import check_transition
from sales_core.config import Settings
from sales_core.errors import BillingError
from sales_core.vocabulary import InvoiceStatus

# One invoice-changing operation at a time in this process (runs and state changes).
write_lock = threading.Lock()


def audit(
    con: store.Connection,
    actor: str,
    action: str,
    numbers: list[str],
    *,
    month: str | None = None,
    detail: str | None = None,
) -> None:
    """One line of the audit log (inside the caller's transaction)."""
    con.execute(
        "INSERT INTO audit_log (logged_at, actor, action, month, invoice_numbers, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [store.utcnow(), actor, action, month, numbers, detail],
    )


def seller(settings: Settings) -> pdf.Seller:
    """The seller block of the PDFs, from the settings."""
    return pdf.Seller(settings.seller_name, settings.seller_address, settings.payment_instructions)


@dataclass(frozen=True)
class Change:
    """A state change asked for one invoice."""

    number: str
    target: str
    paid_date: date | None = None
    reason: str | None = None


def change_status(settings: Settings, change: Change, *, actor: Actor, today: date) -> None:
    """Authorize, mark paid or void one generated invoice, as billing.md allows.

    Raises BillingError in words (nothing written) for a forbidden change, a missing paid date
    or void reason, or an unknown number, and AccessDenied unless `actor` is a biller. The
    change is queued for the next push.
    """
    verbs = {
        InvoiceStatus.AUTHORIZED: "authorize",
        InvoiceStatus.PAID: "mark paid",
        InvoiceStatus.VOID: "void",
    }
    verb = next((v for s, v in verbs.items() if s == change.target), f"set to {change.target}")
    require(actor, "biller", f"{verb} invoice {change.number}")
    if change.target == InvoiceStatus.PAID:
        if change.paid_date is None:
            raise BillingError("Give the date the payment arrived.")
        if change.paid_date > today:
            raise BillingError(f"The paid date {change.paid_date} is in the future.")
    reason = (change.reason or "").strip()
    if change.target == InvoiceStatus.VOID:
        if not reason:
            raise BillingError("Give a reason for voiding the invoice.")
        if len(reason) > 500:
            raise BillingError("Keep the void reason under 500 characters.")
    with (
        write_lock,
        store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con,
    ):
        rows = store.query(
            con,
            "SELECT status, issue_date FROM generated_invoices WHERE number = ?",
            [change.number],
        )
        if not rows:
            raise BillingError(
                f"No invoice {change.number} was generated here; invoices made elsewhere "
                f"are changed in AirTable."
            )
        check_transition(rows[0]["status"], change.target)
        if change.paid_date is not None and change.paid_date < rows[0]["issue_date"]:
            raise BillingError(
                f"The paid date {change.paid_date} is before the issue date "
                f"{rows[0]['issue_date']}."
            )
        store.execute(
            con,
            """
            UPDATE generated_invoices
            SET status = $target, paid_date = coalesce($paid_date, paid_date),
                void_reason = coalesce($reason, void_reason), updated_at = $now,
                push_state = $pending, revision = revision + 1
            WHERE number = $number
            """,
            {
                "target": change.target,
                "paid_date": change.paid_date,
                "reason": reason if change.target == InvoiceStatus.VOID else None,
                "now": store.utcnow(),
                "number": change.number,
            },
        )
        detail = {
            InvoiceStatus.PAID: f"paid on {change.paid_date}",
            InvoiceStatus.VOID: reason,
        }.get(InvoiceStatus(change.target))
        audit(con, actor.label, change.target.lower(), [change.number], detail=detail)
        store.bump_data_version(con)


INVOICE_COLUMNS = (
    "number, community, contract_name, period_start, period_end, days, amount, currency, "
    "status, issue_date, due_date, paid_date, void_reason, push_state, push_error, "
    "invoice_key, contract_id, run_month, created_by"
)


def generated_invoices(
    settings: Settings, statuses: list[str] | None = None, month: str | None = None
) -> pd.DataFrame:
    """The invoices generated here, newest number first, optionally of some statuses/run month."""
    where: list[str] = []
    params: list[Any] = []
    if statuses:
        where.append("list_contains(?, status)")
        params.append(statuses)
    if month:
        where.append("run_month = ?")
        params.append(month)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        frame = con.execute(
            f"SELECT {INVOICE_COLUMNS} FROM generated_invoices {clause} "
            "ORDER BY issue_date DESC, number DESC",
            params,
        ).df()
    return frame


def pending_push_count(settings: Settings) -> int:
    """How many generated invoices AirTable has not heard of yet (new or changed)."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        return pending_in(con)


# What AirTable has not heard of yet: generated invoices new, or changed since their push.
PENDING_COUNT_SQL = "SELECT count(*) FROM generated_invoices WHERE push_state <> $pushed"


def pending_in(con: store.Connection) -> int:
    """`pending_push_count` on an open connection."""
    return int(store.execute(con, PENDING_COUNT_SQL).fetchall()[0][0])


def invoice_pdf(settings: Settings, number: str) -> bytes:
    """The PDF of one generated invoice, rendered from the store (same bytes every time)."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        rows = store.query(
            con,
            "SELECT number, issue_date, due_date, payment_terms AS payment_terms_days, "
            "community, contract_name, billing_email, description, period_start, period_end, "
            "days, proration, amount, currency, status FROM generated_invoices WHERE number = ?",
            [number],
        )
    if not rows:
        raise BillingError(f"No invoice {number} was generated here.")
    return pdf.render_invoice(pdf.InvoiceDocument(**rows[0]), seller(settings))


def audit_log(settings: Settings, limit: int = 200) -> pd.DataFrame:
    """The latest audit lines, newest first."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        return con.execute(
            "SELECT logged_at, actor, action, month, invoice_numbers, detail FROM audit_log "
            "ORDER BY id DESC LIMIT ?",
            [limit],
        ).df()


_ADOPT_SQL = """
UPDATE generated_invoices AS g
SET status = i.status, paid_date = i.paid_date, updated_at = $now,
    revision = g.revision + 1, push_state = $pushed, push_error = NULL
FROM invoices AS i
WHERE i.invoice_key = g.invoice_key
  AND list_contains($invoice_states, i.status)
  AND (i.status IS DISTINCT FROM g.status OR i.paid_date IS DISTINCT FROM g.paid_date)
  AND (g.push_state = $pushed OR list_contains($settled_states, i.status))
RETURNING number, status
"""


def adopt_airtable_changes(con: store.Connection) -> list[str]:
    """After a sync: take AirTable's status for invoices generated here (inside the sync's
    transaction); returns the numbers that changed.

    Once an invoice is in AirTable, AirTable is where people work on it: a status or paid date
    changed there wins over the copy here. A change made here and not yet pushed wins, unless
    AirTable already says Paid or Void, which no change from here may overwrite.
    """
    rows = store.execute(con, _ADOPT_SQL, {"now": store.utcnow()}).fetchall()
    for number, status in rows:
        audit(con, "AirTable (sync)", "adopt", [number], detail=f"status {status} from AirTable")
    return [row[0] for row in rows]

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
import pyarrow as pa

from sales_core import outbox, pdf, store
from sales_core.access import Actor, require
from sales_core.config import Settings
from sales_core.errors import BillingError
from sales_core.invoice import Invoice, InvoiceLine, check_transition
from sales_core.seller_settings import require_real_seller
from sales_core.vocabulary import InvoiceStatus, LineKind

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


# An invoice as stored: its row in generated_invoices (what the run decides) and its lines.
_HEADER = pa.schema(
    [
        ("invoice_key", pa.string()),
        ("number", pa.string()),
        ("contract_id", pa.string()),
        ("contract_name", pa.string()),
        ("community", pa.string()),
        ("billing_email", pa.string()),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("days", pa.int32()),
        ("amount", pa.decimal128(18, 2)),
        ("currency", pa.string()),
        ("issue_date", pa.date32()),
        ("due_date", pa.date32()),
        ("payment_terms", pa.int32()),
        ("proration", pa.string()),
        ("description", pa.string()),
        ("run_month", pa.string()),
        ("created_by", pa.string()),
        ("billing_contact", pa.string()),
        ("billing_address", pa.string()),
        ("po_number", pa.string()),
        ("customer_tax_id", pa.string()),
    ]
)
_LINE = pa.schema(
    [
        ("invoice_key", pa.string()),
        ("position", pa.int32()),
        ("kind", pa.string()),
        ("description", pa.string()),
        ("amount", pa.decimal128(18, 2)),
        ("period_start", pa.date32()),
        ("period_end", pa.date32()),
        ("days", pa.int32()),
        ("detail", pa.string()),
        ("charge_id", pa.string()),
        ("charge_kind", pa.string()),
        ("quantity", pa.decimal128(18, 4)),
        ("unit_price", pa.decimal128(18, 6)),
    ]
)


def _names(schema: pa.Schema) -> str:
    return ", ".join(schema.names)


def insert(con: store.Connection, invoices: list[Invoice], *, run_month: str, actor: str) -> None:
    """Store numbered invoices as Drafts, queued for the push (inside the caller's transaction).

    Every column is named: a column added by a later migration never shifts these.
    """
    headers = [
        {
            "invoice_key": i.invoice_key,
            "number": i.number,
            "contract_id": i.contract_id,
            "contract_name": i.contract_name,
            "community": i.community,
            "billing_email": i.billing_email,
            "period_start": i.period_start,
            "period_end": i.period_end,
            "days": i.days,
            "amount": i.amount,
            "currency": i.currency,
            "issue_date": i.issue_date,
            "due_date": i.due_date,
            "payment_terms": i.payment_terms_days,
            "proration": i.proration,
            "description": i.description,
            "run_month": run_month,
            "created_by": actor,
            "billing_contact": i.billing_contact,
            "billing_address": i.billing_address,
            "po_number": i.po_number,
            "customer_tax_id": i.customer_tax_id,
        }
        for i in invoices
    ]
    lines = [
        {
            "invoice_key": i.invoice_key,
            "position": position,
            "kind": line.kind.value,
            "description": line.description,
            "amount": line.amount,
            "period_start": line.period_start,
            "period_end": line.period_end,
            "days": line.days,
            "detail": line.detail,
            "charge_id": line.charge_id,
            "charge_kind": line.charge_kind,
            "quantity": line.quantity,
            "unit_price": line.unit_price,
        }
        for i in invoices
        for position, line in enumerate(i.lines, start=1)
    ]
    new_invoices = pa.Table.from_pylist(headers, schema=_HEADER)
    new_lines = pa.Table.from_pylist(lines, schema=_LINE)
    with store.registered(con, new_invoices=new_invoices, new_lines=new_lines):
        store.execute(
            con,
            f"""
            INSERT INTO generated_invoices ({_names(_HEADER)},
                status, created_at, updated_at, push_state, revision)
            SELECT {_names(_HEADER)}, $draft, $now, $now, $pending, 0
            FROM new_invoices
            """,
            {"now": store.utcnow()},
        )
        con.execute(
            f"INSERT INTO invoice_lines ({_names(_LINE)}) SELECT {_names(_LINE)} FROM new_lines"
        )


_LOAD_SQL = """
SELECT g.invoice_key, g.number, g.contract_id, g.contract_name, g.community, g.billing_email,
       g.period_start, g.period_end, g.currency, g.issue_date, g.due_date, g.status,
       coalesce(g.billing_contact, c.billing_contact) AS billing_contact,
       coalesce(g.billing_address, c.billing_address) AS billing_address,
       coalesce(g.po_number, c.po_number) AS po_number,
       coalesce(g.customer_tax_id, c.customer_tax_id) AS customer_tax_id,
       coalesce(g.amount_paid, 0) AS amount_paid,
       (SELECT coalesce(sum(n.amount), 0) FROM credit_notes AS n
        WHERE n.credited_number = g.number) AS credited,
       g.paid_date, g.void_reason,
       list({'kind': l.kind, 'description': l.description, 'amount': l.amount,
             'period_start': l.period_start, 'period_end': l.period_end, 'days': l.days,
             'detail': l.detail, 'charge_id': coalesce(l.charge_id, l.released_charge_id),
             'charge_kind': l.charge_kind, 'quantity': l.quantity, 'unit_price': l.unit_price}
            ORDER BY l.position) AS lines
FROM generated_invoices AS g
JOIN invoice_lines AS l USING (invoice_key)
LEFT JOIN contracts AS c ON c.id = g.contract_id
WHERE g.number IN (SELECT unnest($numbers))
GROUP BY ALL
ORDER BY g.number
"""


def load(con: store.Connection, numbers: list[str]) -> list[Invoice]:
    """The invoices made here with these numbers, lines and current state included."""
    invoices = []
    for row in store.query(con, _LOAD_SQL, {"numbers": numbers}):
        lines = tuple(
            InvoiceLine(**{**line, "kind": LineKind(line["kind"])}) for line in row.pop("lines")
        )
        invoices.append(Invoice(**{**row, "status": InvoiceStatus(row["status"])}, lines=lines))
    return invoices


def seller(settings: Settings) -> pdf.Seller:
    """The seller block of the PDFs, from the settings."""
    return settings.seller


@dataclass(frozen=True)
class Change:
    """A state change asked for one invoice."""

    number: str
    target: str
    paid_date: date | None = None
    reason: str | None = None
    mode: str = "rebill"  # a void: bill the period again ('rebill') or 'waive' it


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
    if change.target == InvoiceStatus.AUTHORIZED:
        require_real_seller(settings.seller, settings.airtable_configured, "authorize invoices")
    if change.target == InvoiceStatus.PAID:
        if change.paid_date is None:
            raise BillingError("Give the date the payment arrived.")
        if change.paid_date > today:
            raise BillingError(f"The paid date {change.paid_date} is in the future.")
    if change.target == InvoiceStatus.VOID:
        from sales_core import corrections

        corrections.void(
            settings, change.number, reason=change.reason or "", mode=change.mode, actor=actor
        )
        return
    with (
        write_lock,
        store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con,
    ):
        rows = store.query(
            con,
            "SELECT status, issue_date, amount, amount_paid, currency, invoice_key, "
            "(SELECT coalesce(sum(amount), 0) FROM credit_notes WHERE credited_number = ?) "
            "AS credited FROM generated_invoices WHERE number = ?",
            [change.number, change.number],
        )
        if not rows:
            raise BillingError(
                f"No invoice {change.number} was generated here; invoices made elsewhere "
                f"are changed in AirTable."
            )
        check_transition(rows[0]["status"], change.target)
        # What is still due: the amount less payments and credit notes.
        balance = rows[0]["amount"] - (rows[0]["amount_paid"] or 0) - rows[0]["credited"]
        if change.paid_date is not None and change.paid_date < rows[0]["issue_date"]:
            raise BillingError(
                f"The paid date {change.paid_date} is before the issue date "
                f"{rows[0]['issue_date']}."
            )
        store.execute(
            con,
            f"""
            UPDATE generated_invoices
            SET status = $target, paid_date = coalesce($paid_date, paid_date),
                updated_at = $now,
                amount_paid = CASE WHEN $target = $paid
                                   THEN coalesce(amount_paid, 0) + $balance
                                   ELSE amount_paid END,
                {outbox.QUEUED}
            WHERE number = $number
            """,
            {
                "target": change.target,
                "paid_date": change.paid_date,
                "balance": max(balance, 0),
                "now": store.utcnow(),
                "number": change.number,
            },
        )
        detail = f"paid on {change.paid_date}" if change.target == InvoiceStatus.PAID else None
        if change.target == InvoiceStatus.PAID and balance > 0:  # the rest of it, paid at once
            con.execute(
                "INSERT INTO payments (number, invoice_key, amount, currency, paid_on, "
                "recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    change.number,
                    rows[0]["invoice_key"],
                    balance,
                    rows[0]["currency"],
                    change.paid_date,
                    actor.label,
                    store.utcnow(),
                ],
            )
        audit(con, actor.label, change.target.lower(), [change.number], detail=detail)
        store.bump_data_version(con)


def authorize_many(
    settings: Settings, numbers: list[str], *, actor: Actor, month: str | None = None
) -> list[str]:
    """Authorize many Drafts made here in one step: the numbers given, or (`numbers` empty)
    every Draft of run `month`. All or nothing, one audit line; each is queued for the push.

    Returns the numbers authorized, in order. Raises BillingError in words (nothing changed)
    when there is nothing to authorize, or naming every number that is unknown or no Draft;
    AccessDenied unless `actor` is a biller.
    """
    wanted = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
    what = f"run {month}" if month and not wanted else f"{len(wanted)} invoices"
    require(actor, "biller", f"authorize the drafts of {what}")
    require_real_seller(settings.seller, settings.airtable_configured, "authorize invoices")
    with (
        write_lock,
        store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con,
    ):
        if not wanted and month:
            wanted = [
                row[0]
                for row in store.execute(
                    con,
                    "SELECT number FROM generated_invoices WHERE run_month = $month "
                    "AND status = $draft ORDER BY number",
                    {"month": month},
                ).fetchall()
            ]
            if not wanted:
                raise BillingError(f"Run {month} has no Draft left to authorize.")
        if not wanted:
            raise BillingError("Choose at least one draft to authorize.")
        found = dict(
            store.execute(
                con,
                "SELECT number, status FROM generated_invoices "
                "WHERE number IN (SELECT unnest($numbers))",
                {"numbers": wanted},
            ).fetchall()
        )
        wrong = [
            f"{n} (not made here)" if n not in found else f"{n} ({found[n]})"
            for n in wanted
            if found.get(n) != InvoiceStatus.DRAFT
        ]
        if wrong:
            shown = ", ".join(wrong[:10]) + (
                f" and {len(wrong) - 10} more" if len(wrong) > 10 else ""
            )
            raise BillingError(
                f"Only Drafts made here can be authorized; nothing was changed. Not a Draft: "
                f"{shown}."
            )
        store.execute(
            con,
            f"UPDATE generated_invoices SET status = $authorized, updated_at = $now, "
            f"{outbox.QUEUED} WHERE number IN (SELECT unnest($numbers))",
            {"now": store.utcnow(), "numbers": wanted},
        )
        audit(
            con,
            actor.label,
            "authorized",
            wanted,
            month=month,
            detail=f"{len(wanted)} authorized at once",
        )
        store.bump_data_version(con)
    return wanted


INVOICE_COLUMNS = (
    "number, community, contract_name, period_start, period_end, days, amount, "
    "coalesce(amount_paid, 0) AS amount_paid, CASE WHEN status IN ('Paid', 'Void') THEN 0 "
    "ELSE amount - coalesce(amount_paid, 0) END AS balance, currency, "
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
        return store.frame(
            con,
            f"SELECT {INVOICE_COLUMNS} FROM generated_invoices {clause} "
            "ORDER BY issue_date DESC, number DESC",
            params,
        )


def pending_push_count(settings: Settings) -> int:
    """How many invoices AirTable has not heard of yet: made here (new or changed), or synced
    with a payment recorded here."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        return sum(
            outbox.pending_count(con, queue)
            for queue in (outbox.INVOICES, outbox.SYNCED_INVOICES, outbox.CREDIT_NOTES)
        )


def missing_pdfs(settings: Settings) -> list[str]:
    """The invoices made here whose PDF is not in INVOICE_DIR (a run killed after its commit,
    or files removed by hand), by number."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        rows = con.execute(
            "SELECT number, issue_date FROM generated_invoices ORDER BY number"
        ).fetchall()
    return [n for n, issued in rows if not pdf.pdf_path(settings.invoice_dir, n, issued).exists()]


def write_missing_pdfs(settings: Settings, numbers: list[str]) -> list[str]:
    """Write the PDFs of these invoices from the store, in their current state."""
    if not numbers:
        return []
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        invoices = load(con, numbers)
    pdf.write_invoices(invoices, seller(settings), settings.invoice_dir)
    return [str(i.number) for i in invoices]


def invoice_pdf(settings: Settings, number: str) -> bytes:
    """The PDF of one generated invoice, rendered from the store in its current state."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        found = load(con, [number])
    if not found:
        raise BillingError(f"No invoice {number} was generated here.")
    return pdf.render_invoice(found[0], seller(settings))


def audit_log(settings: Settings, limit: int = 200) -> pd.DataFrame:
    """The latest audit lines, newest first."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        return con.execute(
            "SELECT logged_at, actor, action, month, invoice_numbers, detail FROM audit_log "
            "ORDER BY id DESC LIMIT ?",
            [limit],
        ).df()

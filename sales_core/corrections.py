"""Corrections (docs/billing.md, section 9): void and bill again, void and waive, credit notes.

- **Void and bill again** (a mistake): the invoice keeps its number and becomes Void; its fee
  period and its charges go back to the next run (the charges' ids are released from its
  lines, which keep them for the record in `released_charge_id`).
- **Void and waive** (nothing is owed): Void, and its period and charges stay covered: no run
  bills them again.
- **Credit note** against an Authorized or Paid receivable (made here or synced): at most what
  the invoice still holds after earlier credits. Numbered CN-YYYY-NNNN in a gapless sequence of
  its own; pushed to AirTable's Invoices table as an ACCRECCREDIT row with the `Credited
  Invoice` link and the key `{invoice key}/credit/{n}`. It lowers the invoice's balance and
  the revenue of the month it is issued in (the `receivables` view).

Every change is one write transaction with its audit line, queued for the push (outbox.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import pandas as pd

from sales_core import money, outbox, store
from sales_core.access import Actor, require
from sales_core.billing import CREDIT_NOTE_PREFIX, format_number, highest_number
from sales_core.config import Settings
from sales_core.errors import BillingError
from sales_core.invoice import check_transition
from sales_core.payments import MATCHES_SEARCH, parse_amount, picked_with_community
from sales_core.vocabulary import InvoiceStatus, InvoiceType

if TYPE_CHECKING:
    from sales_core.airtable import AirtableSource

REASON_LIMIT = 500


class VoidMode(StrEnum):
    REBILL = "rebill"
    WAIVE = "waive"


def _reason(text: str | None, what: str) -> str:
    reason = (text or "").strip()
    if not reason:
        raise BillingError(f"Give a reason for {what}.")
    if len(reason) > REASON_LIMIT:
        raise BillingError(f"Keep the reason under {REASON_LIMIT} characters.")
    return reason


def void(
    settings: Settings,
    number: str,
    *,
    reason: str,
    mode: VoidMode | str,
    actor: Actor,
) -> None:
    """Void one invoice made here, to bill it again or to waive it, with a required reason.

    Raises BillingError in words (nothing written) for an unknown number, a state that cannot
    become Void, an invoice with payments or credit notes recorded (credit it instead), a
    missing reason or an unknown mode; AccessDenied unless `actor` is a biller.
    """
    from sales_core.ledger import audit, write_lock

    number = number.strip()
    require(actor, "biller", f"void invoice {number}")
    if mode not in tuple(VoidMode):
        raise BillingError(f"Choose how to void {number}: rebill (bill again) or waive.")
    mode = VoidMode(mode)
    why = _reason(reason, f"voiding {number}")
    with (
        write_lock,
        store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con,
    ):
        rows = store.query(
            con,
            "SELECT invoice_key, status, currency, coalesce(amount_paid, 0) AS amount_paid "
            "FROM generated_invoices WHERE number = $number",
            {"number": number},
        )
        if not rows:
            raise BillingError(
                f"No invoice {number} was generated here; invoices made elsewhere are voided "
                f"in AirTable."
            )
        invoice = rows[0]
        check_transition(invoice["status"], InvoiceStatus.VOID)
        if invoice["amount_paid"] > 0:
            paid = money.text(invoice["amount_paid"], invoice["currency"])
            raise BillingError(
                f"{number} has {paid} of payments recorded: it cannot be voided. Issue a credit "
                f"note for what is not owed instead."
            )
        credited = con.execute(
            "SELECT count(*) FROM credit_notes WHERE credited_number = ?", [number]
        ).fetchall()[0][0]
        if credited:
            raise BillingError(f"{number} has credit notes: credit the rest instead of voiding.")
        store.execute(
            con,
            f"""
            UPDATE generated_invoices
            SET status = $void, void_reason = $reason, void_mode = $mode, updated_at = $now,
                {outbox.QUEUED}
            WHERE number = $number
            """,
            {"reason": why, "mode": str(mode), "now": store.utcnow(), "number": number},
        )
        released = 0
        if mode == VoidMode.REBILL:
            released = len(
                con.execute(
                    "UPDATE invoice_lines SET released_charge_id = charge_id, charge_id = NULL "
                    "WHERE invoice_key = ? AND charge_id IS NOT NULL RETURNING position",
                    [invoice["invoice_key"]],
                ).fetchall()
            )
        outcome = (
            "to be billed again"
            + (f" ({released} charge{'s' if released != 1 else ''} released)" if released else "")
            if mode == VoidMode.REBILL
            else "waived: its period and charges stay covered"
        )
        audit(con, actor.label, "void", [number], detail=f"{outcome}; {why}")
        store.bump_data_version(con)


# The receivable a credit note is for: an Authorized or Paid ACCREC, made here or synced.
_CREDITABLE = """
SELECT r.number, r.invoice_key, r.id, r.contract_id, r.amount, r.currency, r.status,
       r.credited, c.community
FROM receivables AS r LEFT JOIN contracts AS c ON c.id = r.contract_id
WHERE r.number = $number AND coalesce(r.type, $receivable) = $receivable
"""

_CREDIT_NUMBERS = """
SELECT number FROM credit_notes
UNION ALL
SELECT number FROM invoices WHERE number IS NOT NULL
"""


@dataclass(frozen=True)
class CreditNote:
    """A credit note as made here."""

    number: str
    invoice_key: str
    credited_number: str
    amount: Decimal
    currency: str
    reason: str
    issue_date: date
    community: str | None
    remaining: Decimal  # what the credited invoice still holds after this credit


def credit(
    settings: Settings,
    number: str,
    amount: str | Decimal,
    *,
    reason: str,
    actor: Actor,
    today: date,
) -> CreditNote:
    """Issue a credit note against an Authorized or Paid receivable, dated `today`.

    Raises BillingError in words (nothing written) for an unknown invoice, one not Authorized
    or Paid, a bad amount, more than the invoice still holds, or a missing reason; AccessDenied
    unless `actor` is a biller. Two credit notes at once still get consecutive numbers: the
    number is chosen inside the write transaction, and the store keeps numbers unique.
    """
    from sales_core.ledger import audit, write_lock

    number = number.strip()
    require(actor, "biller", f"credit invoice {number}")
    why = _reason(reason, f"crediting {number}")
    with (
        write_lock,
        store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con,
    ):
        found = store.query(con, _CREDITABLE, {"number": number})
        if not found:
            raise BillingError(f"No receivable {number} is known (made here or synced).")
        if len(found) > 1:
            raise BillingError(
                f"{len(found)} receivables are numbered {number}; fix the numbers in AirTable "
                f"first."
            )
        invoice = found[0]
        currency = str(invoice["currency"])
        if invoice["status"] not in (InvoiceStatus.AUTHORIZED, InvoiceStatus.PAID):
            hint = " Void it instead." if invoice["status"] == InvoiceStatus.DRAFT else ""
            raise BillingError(
                f"{number} is {invoice['status']}: only Authorized or Paid invoices are "
                f"credited.{hint}"
            )
        value = parse_amount(amount, currency)
        holds = Decimal(invoice["amount"] or 0) - Decimal(invoice["credited"] or 0)
        if value > holds:
            raise BillingError(
                f"{money.text(value, currency)} is more than {number} still holds after its "
                f"credits, {money.text(holds, currency)}."
            )
        earlier = con.execute(
            "SELECT count(*) FROM credit_notes WHERE credited_number = ?", [number]
        ).fetchall()[0][0]
        base_key = invoice["invoice_key"] or str(invoice["id"])
        key = f"{base_key}/credit/{int(earlier) + 1}"
        numbers = [r[0] for r in con.execute(_CREDIT_NUMBERS).fetchall()]
        year = today.year
        credit_number = format_number(
            year, highest_number(numbers, year, CREDIT_NOTE_PREFIX) + 1, CREDIT_NOTE_PREFIX
        )
        now = store.utcnow()
        record_id = invoice["id"] if not str(invoice["id"]).startswith("local:") else None
        store.execute(
            con,
            """
            INSERT INTO credit_notes (invoice_key, number, credited_number, credited_key,
                credited_record_id, contract_id, community, currency, amount, reason,
                issue_date, created_by, created_at, updated_at, push_state, revision)
            VALUES ($key, $credit_number, $number, $credited_key, $record_id, $contract_id,
                $community, $currency, $amount, $reason, $today, $actor, $now, $now,
                $pending, 0)
            """,
            {
                "key": key,
                "credit_number": credit_number,
                "number": number,
                "credited_key": invoice["invoice_key"],
                "record_id": record_id,
                "contract_id": invoice["contract_id"],
                "community": invoice["community"],
                "currency": currency,
                "amount": value,
                "reason": why,
                "today": today,
                "actor": actor.label,
                "now": now,
            },
        )
        audit(
            con,
            actor.label,
            "credit",
            [credit_number, number],
            detail=f"{money.text(value, currency)} credited on {number}; {why}",
        )
        store.bump_data_version(con)
    return CreditNote(
        number=credit_number,
        invoice_key=key,
        credited_number=number,
        amount=value,
        currency=currency,
        reason=why,
        issue_date=today,
        community=invoice["community"],
        remaining=holds - value,
    )


def creditable(settings: Settings, search: str = "", limit: int | None = None) -> pd.DataFrame:
    """Authorized or Paid receivables that still hold something to credit, newest first; only
    those whose number or community holds `search` (ignoring case), and at most `limit` of
    them, when given. Columns: number, amount, credited, holds, currency, status, issue_date,
    community."""
    order = "issue_date DESC, number DESC"
    picked = f"""
        SELECT r.number, r.contract_id, r.amount, r.credited, r.amount - r.credited AS holds,
               r.currency, r.status, r.issue_date
        FROM receivables AS r
        WHERE coalesce(r.type, $receivable) = $receivable AND r.number IS NOT NULL
          AND list_contains($issued, r.status) AND r.amount - r.credited > 0
          AND {MATCHES_SEARCH}
        ORDER BY {order}
        LIMIT $limit
    """
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        return store.frame(
            con,
            picked_with_community(picked, order),
            {"search": search.strip().lower(), "limit": limit},
        )


def credit_notes(settings: Settings, number: str | None = None) -> pd.DataFrame:
    """The credit notes made here, newest first (of one invoice, or all); amounts in Decimal."""
    where = "WHERE credited_number = $number" if number else ""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        return store.frame(
            con,
            "SELECT number, credited_number, amount, currency, reason, issue_date, community, "
            "push_state, push_error, created_by, invoice_key "
            f"FROM credit_notes {where} ORDER BY issue_date DESC, number DESC",
            {"number": number} if number else None,
        )


def load(settings: Settings, number: str) -> dict[str, Any]:
    """One credit note made here, by number, with what its PDF prints of the credited invoice."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        rows = store.query(
            con,
            "SELECT n.*, r.issue_date AS credited_issue_date, r.amount AS credited_amount "
            "FROM credit_notes AS n LEFT JOIN receivables AS r "
            "ON r.number = n.credited_number AND coalesce(r.type, $receivable) = $receivable "
            "WHERE n.number = $number",
            {"number": number.strip()},
        )
    if not rows:
        raise BillingError(f"No credit note {number} was made here.")
    return rows[0]


def credit_note_pdf(settings: Settings, number: str) -> bytes:
    """The PDF of one credit note made here."""
    from sales_core import pdf
    from sales_core.ledger import seller

    row = load(settings, number)
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        credited = con.execute(
            "SELECT coalesce(sum(amount), 0) FROM credit_notes WHERE credited_number = ? "
            "AND number <= ?",
            [row["credited_number"], row["number"]],
        ).fetchall()[0][0]
    remaining = Decimal(row["credited_amount"] or 0) - Decimal(credited)
    doc = pdf.CreditNoteDoc(
        number=row["number"],
        issue_date=row["issue_date"],
        credited_number=row["credited_number"],
        credited_issue_date=row["credited_issue_date"],
        community=row["community"] or "",
        amount=row["amount"],
        currency=row["currency"],
        reason=row["reason"],
        remaining=remaining,
    )
    return pdf.render_credit_note(doc, seller(settings))


# --- the push --------------------------------------------------------------------------------


def fields(row: dict[str, Any]) -> dict[str, Any]:
    """What AirTable's Invoices table holds of a credit note (product attribute names)."""
    sent: dict[str, Any] = {
        "invoice_key": row["invoice_key"],
        "number": row["number"],
        "type": InvoiceType.CREDIT_NOTE.value,
        "status": InvoiceStatus.AUTHORIZED.value,
        "issue_date": row["issue_date"],
        "amount": row["amount"],
        "currency": row["currency"],
    }
    if row.get("contract_id"):
        sent["contract_ids"] = (row["contract_id"],)
    if row.get("credited_record_id"):
        sent["credited_invoice_ids"] = (row["credited_record_id"],)
    return sent


def check_before_push(
    settings: Settings, base: AirtableSource, rows: list[dict[str, Any]]
) -> dict[str, str]:
    """Credit notes whose invoice is not in AirTable yet wait for it (the link needs its
    record id); the others learn that id here. Returns key -> why a row waits."""
    del base  # the record ids are known locally once the invoice's own push is confirmed
    waiting: dict[str, str] = {}
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        for row in rows:
            if row.get("credited_record_id"):
                continue
            found = con.execute(
                "SELECT airtable_id FROM generated_invoices WHERE number = ? "
                "AND airtable_id IS NOT NULL",
                [row["credited_number"]],
            ).fetchall()
            if found:
                row["credited_record_id"] = found[0][0]
            else:
                waiting[row["invoice_key"]] = (
                    f"waits for {row['credited_number']} to reach AirTable first"
                )
    return waiting


def remember_links(con: store.Connection, sent: dict[str, dict[str, Any]]) -> None:
    """After AirTable confirmed: keep the credited invoice's record id that was sent."""
    for key, row in sent.items():
        links = row.get("credited_invoice_ids") or ()
        if links:
            con.execute(
                "UPDATE credit_notes SET credited_record_id = ? WHERE invoice_key = ?",
                [links[0], key],
            )

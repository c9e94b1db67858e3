"""Payments on receivables: partial payments add up, Paid at a zero balance, no overpayment.

A payment can be recorded on any `Authorized` receivable: one made here, or one synced from
AirTable. Every payment is a row of `payments` (the record of money received, never changed).
What AirTable hears is the invoice's new `Amount Paid` (and, once the balance is zero, `Paid`
with its `Paid Date`), through the outbox:

- for an invoice made here, as part of its state (`reconcile.STATE`), on its `Invoice Key`;
- for an invoice synced from AirTable, as a row of `synced_invoice_changes`, written to its
  record by id. That row keeps AirTable's values the payment started from (`base_*`): a push
  that finds AirTable changed since holds the change as a conflict for a person, like the
  invoices made here (reconcile.py).

Until AirTable confirms, the dashboards read the state recorded here (the `receivables` view).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import pandas as pd

from sales_core import money, outbox, reconcile, store
from sales_core.access import Actor, require
from sales_core.config import Settings
from sales_core.errors import BillingError
from sales_core.vocabulary import InvoiceStatus

if TYPE_CHECKING:
    from sales_core.airtable import AirtableSource


@dataclass(frozen=True)
class Payment:
    """A payment asked for: which invoice, how much, when, and the bank's reference."""

    number: str
    amount: Decimal
    paid_on: date
    reference: str | None = None


@dataclass(frozen=True)
class Recorded:
    """What recording one payment did."""

    number: str
    currency: str
    paid: Decimal  # this payment
    amount_paid: Decimal  # all payments so far
    balance: Decimal  # what remains due
    status: str  # Authorized, or Paid at a zero balance


def parse_amount(text: str | Decimal, currency: str) -> Decimal:
    """An amount typed by a person, checked against the currency's minor unit.

    Raises BillingError in words for anything but a positive amount with at most the
    currency's decimals ("1,200.50" and "1200.5" are fine; "-5", "0", "1.234" USD, "12.5" JPY
    are not).
    """
    raw = str(text).strip().replace(",", "").replace("_", "")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise BillingError(f"The amount '{text}' is not a number.") from None
    if not amount.is_finite() or amount <= 0:
        raise BillingError(f"The amount must be more than zero, got '{text}'.")
    if amount >= money.LIMIT:
        raise BillingError(f"The amount '{text}' is too large.")
    if amount != money.quantize(amount, currency):
        places = money.places(currency)
        unit = "no decimals" if places == 0 else f"at most {places} decimals"
        raise BillingError(f"A {currency} amount has {unit}; got '{text}'.")
    return money.quantize(amount, currency)


# The invoice a payment is for: one made here first, else the synced copy with any change
# recorded here and not yet confirmed by AirTable.
_MADE_HERE = """
SELECT number, invoice_key, NULL AS record_id, amount, currency, status, issue_date,
       coalesce(amount_paid, 0) AS amount_paid
FROM generated_invoices WHERE number = $number
"""
# What credit notes took off the invoice (they lower its balance, like payments).
_CREDITED = "SELECT coalesce(sum(credited), 0) FROM receivables WHERE number = $number"
_SYNCED = """
SELECT i.number, NULL AS invoice_key, i.id AS record_id, i.amount, i.currency,
       coalesce(c.status, i.status) AS status, i.issue_date,
       coalesce(CASE WHEN c.airtable_id IS NULL THEN i.amount_paid ELSE c.amount_paid END, 0)
           AS amount_paid,
       i.status AS there_status, i.paid_date AS there_paid_date,
       i.amount_paid AS there_amount_paid, c.push_state AS change_state
FROM invoices AS i
LEFT JOIN synced_invoice_changes AS c ON c.airtable_id = i.id
WHERE i.number = $number AND coalesce(i.type, $receivable) = $receivable
  AND (i.invoice_key IS NULL
       OR i.invoice_key NOT IN (SELECT invoice_key FROM generated_invoices))
"""


def _find(con: store.Connection, number: str) -> dict[str, Any]:
    found = store.query(con, _MADE_HERE, {"number": number})
    if found:
        return found[0]
    synced = store.query(con, _SYNCED, {"number": number})
    if len(synced) > 1:
        raise BillingError(
            f"AirTable holds {len(synced)} receivables numbered {number}; record the payment "
            f"in AirTable, or fix the numbers there first."
        )
    if not synced:
        raise BillingError(f"No receivable {number} is known (made here or synced).")
    return synced[0]


def currency_of(settings: Settings, number: str) -> str:
    """The currency of a receivable, to read an amount typed for it; BillingError if unknown."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        return str(_find(con, number.strip())["currency"])


def record(settings: Settings, payment: Payment, *, actor: Actor, today: date) -> Recorded:
    """Record one payment and queue what AirTable must hear.

    Raises BillingError in words (nothing written) for an unknown invoice, one that is not
    Authorized, a date in the future or before the issue date, a bad amount or an
    overpayment; AccessDenied unless `actor` is a biller.
    """
    from sales_core.ledger import audit, write_lock

    number = payment.number.strip()
    require(actor, "biller", f"record a payment on {number}")
    if payment.paid_on > today:
        raise BillingError(f"The payment date {payment.paid_on} is in the future.")
    reference = (payment.reference or "").strip() or None
    if reference is not None and len(reference) > 200:
        raise BillingError("Keep the payment reference under 200 characters.")
    with (
        write_lock,
        store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con,
    ):
        invoice = _find(con, number)
        currency = str(invoice["currency"])
        amount = parse_amount(payment.amount, currency)
        if invoice["status"] != InvoiceStatus.AUTHORIZED:
            raise BillingError(
                f"{number} is {invoice['status']}: payments are recorded on Authorized "
                f"invoices only."
            )
        if invoice["issue_date"] is not None and payment.paid_on < invoice["issue_date"]:
            raise BillingError(
                f"The payment date {payment.paid_on} is before the issue date "
                f"{invoice['issue_date']}."
            )
        credited = Decimal(store.execute(con, _CREDITED, {"number": number}).fetchall()[0][0])
        total = Decimal(invoice["amount"] or 0) - credited  # what is owed after credit notes
        before = Decimal(invoice["amount_paid"] or 0)
        balance = total - before
        if amount > balance:
            raise BillingError(
                f"{money.text(amount, currency)} is more than the balance of {number}, "
                f"{money.text(balance, currency)}: an overpayment is refused."
            )
        paid = before + amount
        settled = paid == total
        status = InvoiceStatus.PAID if settled else InvoiceStatus.AUTHORIZED
        paid_date = payment.paid_on if settled else None
        now = store.utcnow()
        if invoice["invoice_key"] is not None:
            store.execute(
                con,
                f"""
                UPDATE generated_invoices
                SET amount_paid = $paid, status = $status,
                    paid_date = coalesce($paid_date, paid_date), updated_at = $now,
                    {outbox.QUEUED}
                WHERE invoice_key = $key
                """,
                {
                    "paid": paid,
                    "status": status,
                    "paid_date": paid_date,
                    "now": now,
                    "key": invoice["invoice_key"],
                },
            )
        else:
            _queue_synced(con, invoice, paid=paid, status=status, paid_date=paid_date)
        con.execute(
            "INSERT INTO payments (number, invoice_key, record_id, amount, currency, paid_on, "
            "reference, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                number,
                invoice["invoice_key"],
                invoice["record_id"],
                amount,
                currency,
                payment.paid_on,
                reference,
                actor.label,
                now,
            ],
        )
        detail = f"{money.text(amount, currency)} paid on {payment.paid_on}" + (
            f" (ref. {reference})" if reference else ""
        )
        detail += "; paid in full" if settled else f"; {money.text(total - paid, currency)} due"
        audit(con, actor.label, "payment", [number], detail=detail)
        store.bump_data_version(con)
    return Recorded(number, currency, amount, paid, total - paid, status)


def _queue_synced(
    con: store.Connection,
    invoice: dict[str, Any],
    *,
    paid: Decimal,
    status: str,
    paid_date: date | None,
) -> None:
    """Queue the new state of a synced invoice for its AirTable record.

    The base is AirTable's state as last synced, kept from the first change not yet confirmed.
    """
    store.execute(
        con,
        f"""
        INSERT INTO synced_invoice_changes AS c (airtable_id, number, status, paid_date,
            amount_paid, base_status, base_paid_date, base_amount_paid, updated_at,
            push_state, revision)
        VALUES ($id, $number, $status, $paid_date, $paid, $there_status, $there_paid_date,
                $there_paid, $now, $pending, 1)
        ON CONFLICT (airtable_id) DO UPDATE SET
            status = excluded.status, paid_date = excluded.paid_date,
            amount_paid = excluded.amount_paid, updated_at = excluded.updated_at,
            base_status = CASE WHEN c.push_state = $pushed THEN excluded.base_status
                               ELSE c.base_status END,
            base_paid_date = CASE WHEN c.push_state = $pushed THEN excluded.base_paid_date
                                  ELSE c.base_paid_date END,
            base_amount_paid = CASE WHEN c.push_state = $pushed THEN excluded.base_amount_paid
                                    ELSE c.base_amount_paid END,
            {outbox.QUEUED.replace("revision + 1", "c.revision + 1")}
        """,
        {
            "id": invoice["record_id"],
            "number": invoice["number"],
            "status": status,
            "paid_date": paid_date,
            "paid": paid,
            "there_status": invoice["there_status"],
            "there_paid_date": invoice["there_paid_date"],
            "there_paid": invoice["there_amount_paid"],
            "now": store.utcnow(),
        },
    )


def payments(settings: Settings, number: str | None = None) -> pd.DataFrame:
    """The payments recorded here, newest first (of one invoice, or all)."""
    where = "WHERE number = ?" if number else ""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        return store.frame(
            con,
            "SELECT number, paid_on, amount, currency, reference, recorded_by, recorded_at "
            f"FROM payments {where} ORDER BY recorded_at DESC, id DESC",
            [number] if number else [],
        )


# A receivable `r` whose number or community holds `$search`, ignoring case; every one when
# `$search` is empty. The pickers of payments and credit notes use it.
MATCHES_SEARCH = """(
    $search = ''
    OR strpos(lower(r.number), $search) > 0
    OR r.contract_id IN (
        SELECT id FROM contracts WHERE strpos(lower(coalesce(community, '')), $search) > 0
    )
)"""


def picked_with_community(picked: str, order: str) -> str:
    """SQL: the rows of the query `picked` (a receivable per row, with its `contract_id`), with
    their contract's community, in `order`.

    The pickers keep at most a couple of hundred of 100,000 receivables: joining the contracts
    after the LIMIT, not before, saves the join's work on every row left out.
    """
    return f"""
        WITH picked AS ({picked})
        SELECT p.* EXCLUDE (contract_id), coalesce(c.community, '') AS community
        FROM picked AS p LEFT JOIN contracts AS c ON c.id = p.contract_id
        ORDER BY {order}
    """


def open_receivables(
    settings: Settings, search: str = "", limit: int | None = None
) -> pd.DataFrame:
    """Every Authorized receivable with a balance, made here or synced: what a payment can be
    recorded on, the first due first; only those whose number or community holds `search`
    (ignoring case), and at most `limit` of them, when given.
    Columns: number, amount, amount_paid, balance, currency, due_date, community."""
    order = "due_date, number"
    picked = f"""
        SELECT r.number, r.contract_id, r.amount, coalesce(r.amount_paid, 0) AS amount_paid,
               r.balance, r.currency, r.due_date
        FROM receivables AS r
        WHERE r.status = $authorized AND coalesce(r.type, $receivable) = $receivable
          AND r.number IS NOT NULL AND r.balance > 0 AND {MATCHES_SEARCH}
        ORDER BY {order}
        LIMIT $limit
    """
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        return store.frame(
            con,
            picked_with_community(picked, order),
            {"search": search.strip().lower(), "limit": limit},
        )


# -- the push of synced invoices' changes ------------------------------------------------------


def fields(row: dict[str, Any]) -> dict[str, Any]:
    """What AirTable hears of a payment on a synced invoice: its record's new state."""
    sent: dict[str, Any] = {
        "airtable_id": row["airtable_id"],
        "status": row["status"],
        "amount_paid": row["amount_paid"],
    }
    if row["paid_date"] is not None:
        sent["paid_date"] = row["paid_date"]
    return sent


def confirmed(con: store.Connection, sent: dict[str, dict[str, Any]]) -> None:
    """AirTable holds what was sent: so does the synced copy, at once (inside the caller's
    transaction)."""
    for record_id, values in sent.items():
        con.execute(
            "UPDATE invoices SET status = ?, amount_paid = ?, "
            "paid_date = coalesce(?, paid_date) WHERE id = ?",
            [values["status"], values["amount_paid"], values.get("paid_date"), record_id],
        )


# -- conflicts: the synced invoice changed in AirTable since the payment was recorded ----------

SYNCED_FIELDS = ("status", "paid_date", "amount_paid")
PREFIX = "airtable:"  # the conflict key of a synced invoice: its record id


def _conflicts_of(
    row: dict[str, Any], there: dict[str, Any], found_by: str
) -> list[reconcile.Conflict]:
    """The fields of one queued change that AirTable changed differently since its base."""
    base = {f: reconcile.plain(row[f"base_{f}"]) for f in SYNCED_FIELDS}
    here = {f: reconcile.plain(row[f]) for f in SYNCED_FIELDS}
    now = {f: reconcile.plain(there.get(f)) for f in SYNCED_FIELDS}
    if not any(now[f] != base[f] and now[f] != here[f] for f in SYNCED_FIELDS):
        return []
    number, record_id = row["number"], row["airtable_id"]
    return [
        reconcile.Conflict(
            PREFIX + record_id,
            number,
            record_id,
            f,
            here[f],
            now[f],
            f"{number}: {reconcile.LABELS[f]} changed in AirTable since the payment recorded "
            f"here ({reconcile.shown(now[f])} there, {reconcile.shown(here[f])} here). Nothing "
            f"is overwritten; choose which one stands.",
        )
        for f in SYNCED_FIELDS
        if now[f] != here[f]
    ]


def _gone(row: dict[str, Any]) -> reconcile.Conflict:
    number, record_id = row["number"], row["airtable_id"]
    why = (
        f"{number}: its AirTable record {record_id} is gone, so the payment recorded here cannot "
        f"reach it. Keep AirTable's values to drop the change (the payment stays listed here)."
    )
    return reconcile.Conflict(
        PREFIX + record_id, number, record_id, reconcile.RECORD, record_id, None, why
    )


def check_before_push(
    settings: Settings, source: AirtableSource, rows: list[dict[str, Any]]
) -> dict[str, str]:
    """The synced invoices not to update now (record id -> why): an open conflict, or AirTable
    changed their state since the payment was recorded (then recorded as a conflict)."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        held = {
            key.removeprefix(PREFIX): why
            for key, why in reconcile.held_keys(con).items()
            if key.startswith(PREFIX)
        }
    waiting = [r for r in rows if r["airtable_id"] not in held]
    if not waiting:
        return held
    current = source.values_by_id("invoices", SYNCED_FIELDS)
    found: list[reconcile.Conflict] = []
    for row in waiting:
        if row["airtable_id"] not in current:
            found.append(_gone(row))
        else:
            found.extend(_conflicts_of(row, current[row["airtable_id"]], "push"))
    if found:
        with store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con:
            reconcile.insert_conflicts(con, found, "push")
        for c in found:
            held[str(c.airtable_id)] = f"Waits for a person: {c.problem}"
    return held


def adopt(con: store.Connection) -> list[reconcile.Conflict]:
    """After a sync, inside its transaction: each queued change meets AirTable's fresh state.

    Already there: done. AirTable unchanged since the payment: still queued. Changed there
    differently: a conflict (returned, for the caller to record). A push in flight is left.
    """
    found: list[reconcile.Conflict] = []
    rows = store.query(
        con,
        """
        SELECT c.*, i.id AS there_id, i.status AS there_status,
               i.paid_date AS there_paid_date, i.amount_paid AS there_amount_paid
        FROM synced_invoice_changes AS c LEFT JOIN invoices AS i ON i.id = c.airtable_id
        WHERE c.push_state = $pending
        """,
    )
    for row in rows:
        if row["there_id"] is None:
            found.append(_gone(row))
            continue
        there = {f: row[f"there_{f}"] for f in SYNCED_FIELDS}
        if all(reconcile.plain(there[f]) == reconcile.plain(row[f]) for f in SYNCED_FIELDS):
            store.execute(
                con,
                "UPDATE synced_invoice_changes SET push_state = $pushed, push_error = NULL "
                "WHERE airtable_id = $id",
                {"id": row["airtable_id"]},
            )
            continue
        found.extend(_conflicts_of(row, there, "sync"))
    return found


def resolve(con: store.Connection, record_id: str, keep: str, found: list[dict[str, Any]]) -> None:
    """Settle the conflicts of one synced invoice (inside the caller's transaction)."""
    there = {c["field"]: json.loads(c["there"]) for c in found}
    if keep == "airtable":
        # The change recorded here goes; AirTable's values show at once (the payments stay).
        con.execute("DELETE FROM synced_invoice_changes WHERE airtable_id = ?", [record_id])
        values = {f: v for f, v in there.items() if f in SYNCED_FIELDS}
        for field, value in values.items():
            con.execute(
                f"UPDATE invoices SET {field} = ? WHERE id = ?",
                [reconcile.stored(field, value), record_id],
            )
        return
    if reconcile.RECORD in there:
        raise BillingError(
            f"{found[0]['number']}: its AirTable record is gone; a synced invoice cannot be "
            f"written again from here. Keep AirTable's values."
        )
    assignments = ", ".join(f"base_{f} = ${f}" for f in there)
    store.execute(
        con,
        f"UPDATE synced_invoice_changes SET {assignments}, push_state = $pending, "
        f"push_error = NULL, revision = revision + 1 WHERE airtable_id = $id",
        {"id": record_id, **{f: reconcile.stored(f, v) for f, v in there.items()}},
    )

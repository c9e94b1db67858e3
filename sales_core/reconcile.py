"""Invoices made here that AirTable also holds: what each side changed, and who wins.

Each invoice made here remembers the last state both sides agreed on (`airtable_seen`: the
AirTable fields as its last push or sync left them). Against that state:

- a push sends only the fields changed here since (the fields this app owns: status, paid date,
  void reason), plus the key; the document fields (number, contract, period, dates, amount,
  currency, type) go out once, with the push that creates the record;
- a sync takes every field changed only in AirTable that people may change there: the due date,
  and the state when the state diagram allows the move (also in several steps, and also when
  both sides moved and AirTable went further along it);
- a field changed on both sides to different values, a step back, or a document field changed in
  AirTable is a conflict: it is listed (`invoice_conflicts`, on Data health and the Invoices
  page), the invoice's push is held, and neither side is overwritten until a person resolves it.
  A push also reads AirTable's current values of the fields it is about to send, so an edit
  made there after the last sync is a conflict too, never overwritten.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

from sales_core import store
from sales_core.config import Settings
from sales_core.errors import BillingError
from sales_core.invoice import reachable
from sales_core.vocabulary import InvoiceType, PushState

if TYPE_CHECKING:
    from sales_core.access import Actor
    from sales_core.airtable import AirtableSource

# The fields this app changes after an invoice is created: its state.
STATE = ("status", "paid_date", "void_reason", "amount_paid", "sent_at")
# Fields people may change in AirTable that this app never changes: taken by each sync.
TAKEN = ("due_date",)
# The document: written by the run, sent once; a change in AirTable is listed, never taken.
DOCUMENT = (
    "number",
    "contract_ids",
    "period_start",
    "period_end",
    "issue_date",
    "amount",
    "currency",
    "type",
)
TRACKED = STATE + TAKEN + DOCUMENT

# What people call each field (AirTable's default names).
LABELS = {
    "status": "Status",
    "paid_date": "Paid Date",
    "void_reason": "Void Reason",
    "amount_paid": "Amount Paid",
    "sent_at": "Sent At",
    "due_date": "Due Date",
    "number": "Invoice Number",
    "contract_ids": "Contract",
    "period_start": "Period Start",
    "period_end": "Period End",
    "issue_date": "Issue Date",
    "amount": "Amount",
    "currency": "Currency",
    "type": "Type",
}

Plain = str | list[str] | None
State = dict[str, Plain]


def _sent_at(value: Any) -> str | None:
    """When an invoice was emailed, as AirTable's date-time field takes it (UTC)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return f"{pd.Timestamp(value):%Y-%m-%dT%H:%M:%S}.000Z"


_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def plain(value: Any) -> Plain:
    """A field's value in one comparable form, whichever side it came from.

    AirTable sends dates as ISO text, amounts as numbers and drops empty values; the store has
    dates, Decimals and NULLs. Both become the same text (or list of text), empty as None.
    """
    if value is None or value == "" or (isinstance(value, (list, tuple)) and not value):
        return None
    if isinstance(value, date):
        return value.isoformat()[:10]
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (Decimal, int, float)):
        cents = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return format(cents, "f")
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    text = str(value).strip()
    if _DATE_TIME.match(text):  # a date and time, to the second, whatever the zone's spelling
        return text[:19]
    return text or None


def local_fields(row: dict[str, Any]) -> dict[str, Any]:
    """Every tracked field of a `generated_invoices` row, by product attribute name."""
    return {
        "status": row["status"],
        "paid_date": row["paid_date"],
        "void_reason": row.get("void_reason"),
        "amount_paid": row.get("amount_paid") or None,  # nothing paid: the field stays empty
        "sent_at": _sent_at(row.get("sent_at")),
        "due_date": row["due_date"],
        "number": row["number"],
        "contract_ids": [row["contract_id"]],
        "period_start": row["period_start"],
        "period_end": row["period_end"],
        "issue_date": row["issue_date"],
        "amount": row["amount"],
        "currency": row["currency"],
        "type": InvoiceType.RECEIVABLE.value,
    }


def seen_state(row: dict[str, Any]) -> State | None:
    raw = row.get("airtable_seen")
    return None if raw is None else dict(json.loads(raw))


def _plain_state(fields: dict[str, Any]) -> State:
    return {name: plain(fields.get(name)) for name in TRACKED}


def agreed(row: dict[str, Any]) -> State:
    """The last state both sides agreed on.

    An invoice whose first push was interrupted (AirTable wrote it, this app never heard) has
    none recorded: what it sent then is what it holds now.
    """
    seen = seen_state(row)
    return seen if seen is not None else _plain_state(local_fields(row))


def creates(row: dict[str, Any]) -> bool:
    """True while AirTable has never held this invoice (as far as this app knows)."""
    return row.get("airtable_id") is None and row.get("airtable_seen") is None


def to_send(row: dict[str, Any]) -> dict[str, Any]:
    """The fields a push sends for one invoice: all of them to create it, then only the key and
    the fields changed here since the last agreed state."""
    fields = local_fields(row)
    if creates(row):
        # Creating the record: every field that has a value (an optional field left empty is
        # not named, so a base without it still takes the invoice).
        present = {n: v for n, v in fields.items() if plain(v) is not None}
        return {"invoice_key": row["invoice_key"], **present}
    base = agreed(row)
    changed = [n for n in TRACKED if plain(fields[n]) != base.get(n)]
    return {"invoice_key": row["invoice_key"]} | {n: fields[n] for n in changed}


@dataclass(frozen=True)
class Conflict:
    """One field of one invoice that a person must settle."""

    invoice_key: str
    number: str
    airtable_id: str | None
    field: str
    here: Plain
    there: Plain
    problem: str


def shown(value: Plain) -> str:
    if value is None:
        return "(empty)"
    return ", ".join(value) if isinstance(value, list) else value


def _why_both(number: str, field: str, here: Plain, there: Plain) -> str:
    return (
        f"{number}: {LABELS[field]} was changed on both sides since the last sync: "
        f"{shown(here)} here, {shown(there)} in AirTable. Neither is overwritten; "
        f"choose which one stands."
    )


def _why_document(number: str, field: str, here: Plain, there: Plain) -> str:
    return (
        f"{number}: {LABELS[field]} was changed in AirTable ({shown(there)}; "
        f"{shown(here)} here). It is part of the invoice as billed and is not taken: put it "
        f"back in AirTable, write this app's value back, or void the invoice and bill again."
    )


@dataclass(frozen=True)
class Decision:
    """What a sync does with one invoice made here."""

    take: dict[str, Plain]  # fields to take from AirTable
    conflicts: list[Conflict]
    seen: State  # the agreed state afterwards
    dropped: str | None = None  # a change here that AirTable's later state replaces


# Fields the store cannot hold empty: AirTable emptying one is a conflict, never taken.
_REQUIRED = {"status", "due_date"}


def decide(row: dict[str, Any], there: State, airtable_id: str | None) -> Decision:
    """Compare one invoice made here with its AirTable row, as of the last agreed state."""
    here = _plain_state(local_fields(row))
    base = agreed(row)
    number, key = row["number"], row["invoice_key"]
    take: dict[str, Plain] = {}
    conflicts: list[Conflict] = []

    def conflict(field: str, why: str) -> None:
        conflicts.append(Conflict(key, number, airtable_id, field, here[field], there[field], why))

    def emptied(field: str) -> str:
        return (
            f"{number}: {LABELS[field]} was emptied in AirTable ({shown(here[field])} here). "
            f"It is not taken: fill it in again in AirTable, or write this app's value back."
        )

    for field in TAKEN:
        if there[field] != base.get(field) and there[field] != here[field]:
            if there[field] is None:
                conflict(field, emptied(field))
            else:
                take[field] = there[field]
    for field in DOCUMENT:
        if there[field] != base.get(field) and there[field] != here[field]:
            conflict(field, _why_document(number, field, here[field], there[field]))

    dropped = None
    moved_there = any(there[f] != base.get(f) for f in STATE)
    moved_here = any(here[f] != base.get(f) for f in STATE)
    differs = [f for f in STATE if there[f] != here[f]]
    if moved_there and differs:
        h, t = str(here["status"]), there["status"]
        if t is None:
            conflict("status", emptied("status"))
        elif not moved_here and (h == t or reachable(h, str(t))):
            take.update({f: there[f] for f in STATE})
        elif moved_here and h != t and reachable(h, str(t)):
            # Both moved, and AirTable went further along the same path: its state stands.
            take.update({f: there[f] for f in STATE})
            dropped = f"the change here to {h}, not yet in AirTable, is dropped"
        elif not moved_here:
            why = (
                f"{number} is {h} here and {t} in AirTable: a step back is not taken; "
                f"put AirTable's Status back, or void and bill again."
            )
            for field in differs:  # the state goes as one: its fields are settled together
                conflict(field, why)
        else:
            for field in differs:
                conflict(field, _why_both(number, field, here[field], there[field]))

    held = {c.field for c in conflicts}
    seen = {f: (base.get(f) if f in held else there[f]) for f in TRACKED}
    return Decision(take, conflicts, seen, dropped)


# Invoices made here and the AirTable rows with the same key, as the sync just stored them.
_PAIRS_SQL = """
SELECT g.*, i.id AS there_id, i.number AS there_number, i.contract_ids AS there_contract_ids,
       i.period_start AS there_period_start, i.period_end AS there_period_end,
       i.issue_date AS there_issue_date, i.due_date AS there_due_date,
       i.amount AS there_amount, i.currency AS there_currency, i.status AS there_status,
       i.paid_date AS there_paid_date, i.void_reason AS there_void_reason, i.type AS there_type,
       i.amount_paid AS there_amount_paid, i.sent_at AS there_sent_at,
       count(i.id) OVER (PARTITION BY g.invoice_key) AS records
FROM generated_invoices AS g
LEFT JOIN invoices AS i ON i.invoice_key = g.invoice_key
ORDER BY g.number, i.id
"""

_CONFLICT_INSERT = (
    "INSERT OR REPLACE INTO invoice_conflicts (invoice_key, number, airtable_id, field, here, "
    "there, problem, found_by, found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# A conflict about the AirTable record itself rather than one of its fields.
RECORD = "record"
LABELS[RECORD] = "AirTable record"


def insert_conflicts(con: store.Connection, conflicts: list[Conflict], found_by: str) -> None:
    now = store.utcnow()
    for c in conflicts:
        con.execute(
            _CONFLICT_INSERT,
            [
                c.invoice_key,
                c.number,
                c.airtable_id,
                c.field,
                json.dumps(c.here),
                json.dumps(c.there),
                c.problem,
                found_by,
                now,
            ],
        )


def _missing(row: dict[str, Any]) -> Conflict:
    why = (
        f"{row['number']}: its AirTable record is gone (deleted, or its Invoice Key changed). "
        f"Invoices are never deleted: keep this app's values to write the whole invoice to "
        f"AirTable again, or put the Invoice Key back."
    )
    return Conflict(
        row["invoice_key"], row["number"], row["airtable_id"], RECORD, row["invoice_key"], None, why
    )


def _duplicated(row: dict[str, Any], count: int) -> Conflict:
    why = (
        f"{row['number']}: AirTable holds {count} records with its Invoice Key "
        f"{row['invoice_key']}. Delete the extra ones in AirTable; nothing is sent until then."
    )
    return Conflict(row["invoice_key"], row["number"], None, RECORD, "1", str(count), why)


@dataclass(frozen=True)
class Adoption:
    """What a sync took from AirTable for the invoices made here, and what it left to people."""

    adopted: list[str]
    conflicts: list[Conflict]


def adopt_airtable_changes(con: store.Connection, fetched_from: datetime) -> Adoption:
    """After a sync, inside its transaction: take what AirTable changed for the invoices made
    here, record the agreed state, and list the conflicts afresh.

    `fetched_from` is when the sync began reading AirTable: an invoice pushed since then is left
    as it is (the copy just read may predate that push), with its conflicts, until the next sync.
    """
    from sales_core.ledger import audit

    adopted: list[str] = []
    from sales_core import payments

    found: list[Conflict] = []
    rows = store.query(con, _PAIRS_SQL)
    newer = {
        r["invoice_key"]
        for r in rows
        if r["pushed_at"] is not None and r["pushed_at"] > fetched_from
    }
    store.execute(
        con,
        "DELETE FROM invoice_conflicts WHERE NOT list_contains($newer, invoice_key)",
        {"newer": sorted(newer)},
    )
    done: set[str] = set()
    for row in rows:
        key = row["invoice_key"]
        if key in newer or key in done:
            continue
        done.add(key)
        if row["there_id"] is None:  # not in AirTable
            if not creates(row):
                found.append(_missing(row))
            continue
        if row["records"] > 1:
            found.append(_duplicated(row, int(row["records"])))
            continue
        there = {f: plain(row[f"there_{f}"]) for f in TRACKED}
        decision = decide(row, there, row["there_id"])
        found.extend(decision.conflicts)
        changes: dict[str, Any] = {f: stored(f, v) for f, v in decision.take.items()}
        after = row | changes | {"airtable_seen": json.dumps(decision.seen)}
        state = PushState.PUSHED if len(to_send(after)) == 1 else PushState.PENDING
        if row["push_state"] == PushState.SENDING and not changes:
            state = PushState.SENDING  # a push is under way: it records what it sent
        unchanged = (
            not changes
            and decision.seen == seen_state(row)
            and row["airtable_id"] == row["there_id"]
            and row["push_state"] == state
        )
        if unchanged:  # most invoices, most syncs: nothing to write
            continue
        assignments = "".join(f", {f} = ${f}" for f in changes)
        bump = ", revision = revision + 1, updated_at = $now" if changes else ""
        params: dict[str, Any] = {
            "seen": json.dumps(decision.seen),
            "id": row["there_id"],
            "state": state,
            "key": key,
            **changes,
        }
        if changes:
            params["now"] = store.utcnow()
        store.execute(
            con,
            f"UPDATE generated_invoices SET airtable_seen = $seen, airtable_id = $id, "
            f"push_state = $state, "
            f"push_error = CASE WHEN $state = $pushed THEN NULL ELSE push_error END"
            f"{assignments}{bump} WHERE invoice_key = $key",
            params,
        )
        if changes:
            detail = "; ".join(
                f"{LABELS[f]} {shown(v)} from AirTable" for f, v in decision.take.items()
            )
            if decision.dropped:
                detail += f"; {decision.dropped}"
            audit(con, "AirTable (sync)", "adopt", [row["number"]], detail=detail)
            adopted.append(row["number"])
    found.extend(payments.adopt(con))  # payments recorded here on synced invoices
    insert_conflicts(con, found, "sync")
    return Adoption(adopted, found)


def stored(field: str, value: Plain) -> Any:
    """A plain value back in the store's type."""
    if value is None:
        return None
    if field in ("due_date", "paid_date", "period_start", "period_end", "issue_date"):
        return date.fromisoformat(str(value))
    if field in ("amount", "amount_paid"):
        return Decimal(str(value))
    if field == "sent_at":
        return datetime.fromisoformat(str(value)[:19])
    return value


def held_keys(con: store.Connection) -> dict[str, str]:
    """Invoice key -> why its push waits for a person (an open conflict)."""
    rows = con.execute(
        "SELECT invoice_key, string_agg(DISTINCT problem, ' ') FROM invoice_conflicts "
        "GROUP BY invoice_key"
    ).fetchall()
    return {key: f"Waits for a person: {why}" for key, why in rows}


def check_before_push(
    settings: Settings, source: AirtableSource, rows: list[dict[str, Any]]
) -> dict[str, str]:
    """The invoices not to send now, with why: an open conflict, or AirTable changed since the
    last agreed state a field about to be sent (recorded as a conflict), or lost the record."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        held = held_keys(con)
    updates = {r["invoice_key"]: r for r in rows if r["invoice_key"] not in held and not creates(r)}
    if not updates:
        return held
    # Whole records (no field list): a base without an optional field still answers.
    current = source.fields_by_key("invoices", "invoice_key", TRACKED)
    found: list[Conflict] = []
    for key, row in updates.items():
        if key not in current:
            found.append(_missing(row))
            continue
        record_id, values = current[key]
        base = agreed(row)
        here = _plain_state(local_fields(row))
        there = {f: plain(values.get(f)) for f in TRACKED}
        sending = [f for f in to_send(row) if f in TRACKED]
        if not any(there[f] != base.get(f) and there[f] != here[f] for f in sending):
            continue
        # The state goes as one: every field of it that differs is listed, with AirTable's
        # current value, so keeping AirTable's takes the whole state as it is now.
        fields = sorted(set(sending) | {f for f in STATE if there[f] != here[f]})
        for field in fields:
            if there[field] != here[field]:
                why = _why_both(row["number"], field, here[field], there[field])
                found.append(
                    Conflict(key, row["number"], record_id, field, here[field], there[field], why)
                )
    if found:
        with store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con:
            insert_conflicts(con, found, "push")
        for c in found:
            held[c.invoice_key] = f"Waits for a person: {c.problem}"
    return held


def confirmed(con: store.Connection, sent: dict[str, dict[str, Any]]) -> None:
    """After AirTable confirmed a chunk: what was sent is now agreed (inside the caller's
    transaction)."""
    for key, fields in sent.items():
        rows = store.query(con, "SELECT * FROM generated_invoices WHERE invoice_key = ?", [key])
        if not rows:
            continue
        seen = seen_state(rows[0])
        if seen is None:
            # The creating push (every field with a value), or one after an interrupted
            # creation that AirTable already held as it is here.
            sent_any = any(f in TRACKED for f in fields)
            seen = (
                {f: plain(fields.get(f)) for f in TRACKED}
                if sent_any
                else _plain_state(local_fields(rows[0]))
            )
        else:
            seen |= {f: plain(v) for f, v in fields.items() if f in TRACKED}
        con.execute(
            "UPDATE generated_invoices SET airtable_seen = ? WHERE invoice_key = ?",
            [json.dumps(seen), key],
        )


def conflicts(settings: Settings) -> pd.DataFrame:
    """The open conflicts, oldest invoice first: what a person must settle."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        frame = con.execute(
            "SELECT number, field, here, there, problem, found_by, found_at, airtable_id, "
            "invoice_key FROM invoice_conflicts ORDER BY number, field"
        ).df()
    for column in ("here", "there"):
        frame[column] = [shown(json.loads(v)) for v in frame[column]]
    frame["field"] = [LABELS.get(f, f) for f in frame["field"]]
    return frame


def resolve(settings: Settings, number: str, keep: str, *, actor: Actor) -> None:
    """Settle every conflict of one invoice: keep AirTable's values (`airtable`) or this app's
    (`here`, written to AirTable by the next push).

    Raises BillingError in words when there is nothing to settle, or AirTable's value cannot be
    taken (the invoice as billed, an emptied required field, a lost record), and AccessDenied
    unless a biller.
    """
    from sales_core import payments
    from sales_core.access import require
    from sales_core.ledger import audit, write_lock

    require(actor, "biller", f"settle the conflicts of invoice {number}")
    if keep not in ("airtable", "here"):
        raise BillingError("Choose whose values stand: 'airtable' or 'here'.")
    with (
        write_lock,
        store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con,
    ):
        found = store.query(
            con, "SELECT * FROM invoice_conflicts WHERE number = ? ORDER BY field", [number]
        )
        if not found:
            raise BillingError(f"Invoice {number} has no conflict with AirTable.")
        fields = [c["field"] for c in found]
        whose = "AirTable's" if keep == "airtable" else "this app's"
        detail = f"{', '.join(LABELS[f] for f in fields)}: {whose} value kept"
        key = str(found[0]["invoice_key"])
        if key.startswith(payments.PREFIX):  # a payment on an invoice synced from AirTable
            payments.resolve(con, key.removeprefix(payments.PREFIX), keep, found)
            con.execute("DELETE FROM invoice_conflicts WHERE number = ?", [number])
            audit(con, actor.label, "resolve", [number], detail=detail)
            store.bump_data_version(con)
            return
        [row] = store.query(con, "SELECT * FROM generated_invoices WHERE number = ?", [number])
        seen = agreed(row)
        there = {c["field"]: json.loads(c["there"]) for c in found}
        if keep == "airtable":
            fixed = [LABELS[f] for f in fields if f in DOCUMENT or f == RECORD]
            empty = [LABELS[f] for f in fields if f in _REQUIRED and there[f] is None]
            if fixed or empty:
                why = (
                    f"{', '.join(fixed)} cannot be taken from AirTable: it is the invoice as "
                    f"billed (void it and bill again instead)"
                    if fixed
                    else f"AirTable's {', '.join(empty)} is empty"
                )
                raise BillingError(
                    f"{number}: {why}. Put it right in AirTable, or keep this app's values."
                )
            changes = {f: stored(f, v) for f, v in there.items()}
            seen |= there
            assignments = ", ".join(f"{f} = ${f}" for f in changes)
            store.execute(
                con,
                f"UPDATE generated_invoices SET {assignments}, airtable_seen = $seen, "
                f"updated_at = $now, revision = revision + 1 WHERE number = $number",
                {"seen": json.dumps(seen), "now": store.utcnow(), "number": number, **changes},
            )
        elif RECORD in fields:
            # Write the whole invoice again: the next push creates its record.
            store.execute(
                con,
                "UPDATE generated_invoices SET airtable_seen = NULL, airtable_id = NULL, "
                "updated_at = $now, revision = revision + 1 WHERE number = $number",
                {"now": store.utcnow(), "number": number},
            )
        else:
            # AirTable's current value becomes the agreed one, so the push sends ours over it.
            seen |= there
            store.execute(
                con,
                "UPDATE generated_invoices SET airtable_seen = $seen, updated_at = $now, "
                "revision = revision + 1 WHERE number = $number",
                {"seen": json.dumps(seen), "now": store.utcnow(), "number": number},
            )
        [after] = store.query(con, "SELECT * FROM generated_invoices WHERE number = ?", [number])
        state = PushState.PUSHED if len(to_send(after)) == 1 else PushState.PENDING
        store.execute(
            con,
            "UPDATE generated_invoices SET push_state = $state, push_error = NULL "
            "WHERE number = $number",
            {"state": state, "number": number},
        )
        con.execute("DELETE FROM invoice_conflicts WHERE number = ?", [number])
        audit(con, actor.label, "resolve", [number], detail=detail)
        store.bump_data_version(con)

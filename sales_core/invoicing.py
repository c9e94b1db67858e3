"""The one-click invoice run, used by the Invoices page and the CLI alike.

generate(): plan -> number -> persist, in ONE write transaction -> PDFs -> push to AirTable.

Never billing twice rests on the store, not on the UI: the overlap check, the numbering and the
insert happen inside one DuckDB write transaction, the invoice key is the table's primary key and
the number is unique. DuckDB lets one process open the file at a time, so a cron run and a click
in the app take turns; inside the app a lock makes a double click wait for the first click's run,
which then finds everything already invoiced and makes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sales_core import ledger, money, pdf, schema, store, summaries
from sales_core.access import Actor, require
from sales_core.billing import (
    Covered,
    KnownInvoice,
    Month,
    Plan,
    ScheduleRow,
    format_number,
    highest_number,
    months_with_drafts,
    plan_run,
)
from sales_core.config import Settings
from sales_core.errors import SalesError, UnprintableTextError
from sales_core.invoice import Invoice, InvoiceLine
from sales_core.ledger import audit, seller, write_lock
from sales_core.models import Charge, Contract
from sales_core.seller_settings import require_real_seller

Progress = Callable[[str, float], None]


# Fields of a contract read for planning; the same names as the model's.
_CONTRACT_COLUMNS = ", ".join(c.attr for c in schema.columns(Contract))
# What `billing.months_with_drafts` reads of a contract (`_billable_at_all`, `service_period`):
# the unbilled months read only these, as `ScheduleRow`s.
_SCHEDULE_COLUMNS = ", ".join(ScheduleRow._fields)

# A contract a run beginning on `$first` may bill: not Draft or Cancelled, not ended before.
_MAY_BILL = (
    "NOT list_contains($not_billed_contracts, coalesce(status, '')) "
    "AND (end_date IS NULL OR end_date >= $first)"
)

# The contracts the unbilled months must look at: those that a run from `$first` could bill
# (`_contracts` without charges), less those whose months from `$first` to `$last` all lie
# inside one covered span (`spans`): `months_with_drafts` would skip each of those months.
_UNBILLED_CANDIDATES_SQL = f"""
SELECT {_SCHEDULE_COLUMNS} FROM contracts AS c
WHERE {_MAY_BILL}
  AND (c.start_date IS NULL OR NOT EXISTS (
      SELECT 1 FROM spans AS s
      WHERE s.contract_id = c.id AND s.period_start <= s.period_end
        AND s.period_start <= greatest(CAST(date_trunc('month', c.start_date) AS DATE), $first)
        AND s.period_end >= least(last_day(coalesce(c.end_date, $last)), $last)))
"""

_NUMBERS_SQL = """
SELECT number FROM generated_invoices
UNION ALL
SELECT number FROM invoices WHERE number IS NOT NULL
"""

_KEYS_SQL = """
SELECT invoice_key FROM generated_invoices
UNION
SELECT invoice_key FROM invoices WHERE invoice_key IS NOT NULL
"""


@dataclass
class RunResult:
    """What one generate call did."""

    plan: Plan
    created: list[Invoice] = field(default_factory=list)
    pdfs: dict[str, Path] = field(default_factory=dict)
    pushed: int = 0
    push_error: str | None = None
    pdf_error: str | None = None
    # PDFs of earlier invoices that were missing (a run killed after its commit), written now.
    repaired_pdfs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON (billing.md): the plan's shape, each invoice with its number."""
        return plan_json(replace(self.plan, drafts=tuple(self.created)), numbered=True)


def _line_json(line: InvoiceLine, currency: str) -> dict[str, Any]:
    def day(value: date | None) -> str | None:
        return value.isoformat() if value is not None else None

    def number(value: Decimal | None) -> str | None:
        return money.plain_number(value) if value is not None else None

    return {
        "kind": str(line.kind),
        "description": line.description,
        "period_start": day(line.period_start),
        "period_end": day(line.period_end),
        "quantity": number(line.quantity),
        "unit_price": number(line.unit_price),
        "amount": money.plain(line.amount, currency),
        "charge_id": line.charge_id,
    }


def plan_json(plan: Plan, *, numbered: bool = False) -> dict[str, Any]:
    """The JSON object of billing.md: amounts and dates as strings."""

    def invoice(draft: Invoice) -> dict[str, Any]:
        data: dict[str, Any] = {
            "invoice_key": draft.invoice_key,
            "contract_id": draft.contract_id,
            "contract_name": draft.contract_name,
            "community": draft.community,
            "period_start": draft.period_start.isoformat(),
            "period_end": draft.period_end.isoformat(),
            "amount": money.plain(draft.amount, draft.currency),
            "currency": draft.currency,
            "due_date": draft.due_date.isoformat(),
            "description": draft.description,
            "lines": [_line_json(line, draft.currency) for line in draft.lines],
        }
        if numbered:
            data["invoice_number"] = draft.number
        return data

    return {
        "month": str(plan.month),
        "issue_date": plan.issue_date.isoformat(),
        "invoices": [invoice(d) for d in plan.drafts],
        "skipped": [
            {"contract_id": s.contract_id, "contract_name": s.contract_name, "reason": s.reason}
            for s in plan.skipped
        ],
    }


# The charges no invoice bills yet (a line's charge_id is unique; a voided invoice billed
# again has released its charges) that run M may bill: Bill In in M or earlier.
_UNBILLED_CHARGES_SQL = f"""
SELECT {", ".join(c.attr for c in schema.columns(Charge))} FROM charges
WHERE bill_in IS NOT NULL AND bill_in <= $last
  AND id NOT IN (SELECT charge_id FROM invoice_lines WHERE charge_id IS NOT NULL)
ORDER BY id
"""


def _charges(con: store.Connection, month: Month) -> list[Charge]:
    rows = store.query(con, _UNBILLED_CHARGES_SQL, {"last": month.last})
    return [Charge.model_construct(**row) for row in rows]


def _contracts(con: store.Connection, month: Month, charges: list[Charge]) -> list[Contract]:
    """The contracts run `month` may bill, and those with charges waiting (so that a charge on
    a contract that ended earlier is billed, and one on a contract never billed is listed)."""
    rows = store.query(
        con,
        f"SELECT {_CONTRACT_COLUMNS} FROM contracts "
        f"WHERE ({_MAY_BILL}) OR id IN (SELECT unnest($with_charges)) ORDER BY id",
        {"first": month.first, "with_charges": sorted({c.contract_id or "" for c in charges})},
    )
    # Rows of the store were validated when they were synced.
    return [Contract.model_construct(**row) for row in rows]


def contracts_of(settings: Settings, ids: Iterable[str]) -> list[Contract]:
    """The contracts of these record ids (those a plan bills), by name: every declared field,
    for people to check."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        rows = store.query(
            con,
            f"SELECT {_CONTRACT_COLUMNS} FROM contracts WHERE id IN (SELECT unnest($ids)) "
            "ORDER BY name, id",
            {"ids": sorted(set(ids))},
        )
    return [Contract.model_construct(**row) for row in rows]


def _known(con: store.Connection, month: Month) -> list[KnownInvoice]:
    # Only invoices that end on or after the month's first day can overlap a period beginning
    # in the month (and `_contracts` reads only the contracts still covering some day of it).
    rows = store.execute(con, summaries.KNOWN_SQL, {"first": month.first}).fetchall()
    return [KnownInvoice(*row) for row in rows if row[0] is not None]


def _plan(con: store.Connection, month: Month, issue_date: date | None) -> Plan:
    charges = _charges(con, month)
    return plan_run(_contracts(con, month, charges), _known(con, month), month, issue_date, charges)


def preview(settings: Settings, month: Month, issue_date: date | None = None) -> Plan:
    """What generate would make now (no numbers yet); changes nothing."""
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        return _plan(con, month, issue_date)


_FIRST_INVOICED_SQL = """
SELECT min(coalesce(period_start, issue_date)) FROM (
    SELECT period_start, issue_date FROM invoices
    UNION ALL
    SELECT period_start, issue_date FROM generated_invoices
)
"""


def unbilled_months(settings: Settings, month: Month) -> list[str]:
    """The months before `month` with a billable period that no invoice covers (billing.md),
    oldest first, counted from the first month any invoice exists, synced or made here.

    Run M numbers its invoices after every earlier run, so billing M first would give it lower
    numbers than a month still to be billed.
    """
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        first = con.execute(_FIRST_INVOICED_SQL).fetchall()[0][0]
        if first is None:
            return []
        start = Month.of(first)
        if start >= month:
            return []
        window = {"first": start.first, "last": month.first - timedelta(days=1)}
        spans = summaries.spans_source(con)
        contracts = [
            ScheduleRow(*row)
            for row in store.execute(
                con, f"WITH spans AS ({spans}) {_UNBILLED_CANDIDATES_SQL} ORDER BY c.id", window
            ).fetchall()
        ]
        covered: Covered = {}
        if contracts:
            for contract_id, period_start, period_end in store.execute(
                con,
                f"WITH spans AS ({spans}) SELECT contract_id, period_start, period_end "
                "FROM spans WHERE contract_id IN (SELECT unnest($ids))",
                {"first": start.first, "ids": [c.id for c in contracts]},
            ).fetchall():
                covered.setdefault(contract_id, []).append((period_start, period_end))
    earlier: list[Month] = []
    while start < month:
        earlier.append(start)
        start = start.next()
    return [str(m) for m in months_with_drafts(contracts, covered, earlier)]


def _numbered(plan: Plan, numbers: Iterable[str | None], taken_keys: set[str]) -> list[Invoice]:
    """Numbers in plan order; a period billed again after a void gets its key a '/2' suffix.

    The voided invoice keeps its key (and its AirTable row, which an upsert on the same key
    would otherwise overwrite), so the new one needs a key of its own.
    """
    year = plan.issue_date.year
    next_number = highest_number(numbers, year) + 1
    out = []
    for offset, draft in enumerate(plan.drafts):
        key = draft.invoice_key
        again = 2
        while key in taken_keys:
            key = f"{draft.invoice_key}/{again}"
            again += 1
        out.append(
            replace(
                draft,
                invoice_key=key,
                number=format_number(year, next_number + offset),
            )
        )
    return out


def generate(
    settings: Settings,
    month: Month,
    issue_date: date | None = None,
    *,
    actor: Actor,
    push: bool = True,
    progress: Progress | None = None,
) -> RunResult:
    """Make run `month`'s invoices: numbered and stored in one transaction, then PDFs and push.

    Running it again, or twice at once, makes nothing new: the contracts already billed for the
    period are skipped with the number of their invoice. A failed push leaves the invoices
    pending for the next push (reported in `push_error`, not raised). Raises AccessDenied
    (nothing written) unless `actor` is a biller.
    """
    require(actor, "biller", f"generate the invoices of {month}")
    require_real_seller(settings.seller, settings.airtable_configured, "generate invoices")

    def say(message: str, fraction: float) -> None:
        if progress is not None:
            progress(message, fraction)

    say("Planning and numbering…", 0.0)
    with (
        write_lock,
        store.write_transaction(settings.db_path, lock_timeout=settings.lock_timeout) as con,
    ):
        plan = _plan(con, month, issue_date)
        numbers = [r[0] for r in con.execute(_NUMBERS_SQL).fetchall()]
        taken = {r[0] for r in con.execute(_KEYS_SQL).fetchall()}
        drafts = _numbered(plan, numbers, taken)
        if drafts:
            ledger.insert(con, drafts, run_month=str(month), actor=actor.label)
            audit(
                con,
                actor.label,
                "generate",
                [d.number or "" for d in drafts],
                month=str(month),
                detail=f"{len(drafts)} invoices",
            )
            store.bump_data_version(con)
    # The invoices are committed from here on: a failure below is reported, never raised,
    # so that the caller always learns the numbers that were made.
    result = RunResult(plan=plan, created=drafts)
    # PDFs and the push take seconds: the file is not held meanwhile (store.released).
    with store.released(settings.db_path):
        _after_commit(settings, result, drafts, actor=actor, push=push, say=say)
    say("Done", 1.0)
    return result


def _after_commit(
    settings: Settings,
    result: RunResult,
    drafts: list[Invoice],
    *,
    actor: Actor,
    push: bool,
    say: Progress,
) -> None:
    """The PDFs of the invoices just committed, any missing from earlier runs, and the push:
    failures are told in `result`, never raised (the invoices are saved)."""
    if drafts:
        say(f"Writing {len(drafts)} PDFs…", 0.1)
        documents = drafts

        def pdf_progress(done: int) -> None:
            say(f"Writing PDFs: {done} of {len(documents)}", 0.1 + 0.7 * done / len(documents))

        try:
            paths = pdf.write_invoices(
                documents, seller(settings), settings.invoice_dir, progress=pdf_progress
            )
            result.pdfs = dict(zip([d.number or "" for d in documents], paths, strict=True))
        except UnprintableTextError as exc:
            result.pdf_error = (
                f"some invoices have no PDF: no font can print part of their text ({exc}); "
                f"the other PDFs are written"
            )
        except (OSError, SalesError) as exc:
            result.pdf_error = (
                f"the PDF files could not be written to {settings.invoice_dir} ({exc}); "
                f"the invoices are saved and their PDFs can still be downloaded"
            )
    if result.pdf_error is None:
        try:
            missing = ledger.missing_pdfs(settings)
            if missing:
                say(f"Writing {len(missing)} PDFs missing from earlier runs…", 0.8)
                result.repaired_pdfs = ledger.write_missing_pdfs(settings, missing)
        except (OSError, SalesError) as exc:
            result.pdf_error = f"the PDFs missing from earlier runs could not be written ({exc})"
    if push and settings.airtable_configured:
        from sales_core import writeback  # imports the AirTable boundary only when needed

        say("Sending to AirTable…", 0.85)
        try:
            outcome = writeback.push_pending(settings, actor=actor)
            result.pushed, result.push_error = outcome.pushed, outcome.error
        except SalesError as exc:
            result.push_error = str(exc)

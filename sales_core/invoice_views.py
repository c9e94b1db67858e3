"""Tables and files the Invoices page shows: the plan as rows, totals per currency, a zip.

Formatting money for people happens here, so the page does no money work at all.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd

from sales_core import burndown, corrections, delivery, invoicing, ledger, money, payments, schema
from sales_core.billing import Month, Plan
from sales_core.config import Settings
from sales_core.formatting import percent
from sales_core.models import Contract

PLAN_COLUMNS = ["Contract", "Amount", "Currency", "Period", "Days", "Proration", "Community", "Due"]


def plan_frame(plan: Plan, excesses: dict[str, Decimal] | None = None) -> pd.DataFrame:
    """One row per invoice the run would make, in the order numbers will follow.

    A "Note" column appears when a row needs a person's eye (a voided period billed again), and
    an "Over contract by" column when a draft takes its contract past its Amount.
    """
    frame = pd.DataFrame(
        [
            {
                "Contract": d.contract_name,
                "Amount": money.grouped(d.amount, d.currency),
                "Currency": d.currency,
                "Period": f"{d.period_start} – {d.period_end}",
                "Days": d.days,
                "Proration": d.proration,
                "Community": d.community,
                "Due": d.due_date.isoformat(),
            }
            for d in plan.drafts
        ],
        columns=PLAN_COLUMNS,
    )
    if any(d.charges for d in plan.drafts):
        frame.insert(
            2,
            "Charges",
            [
                money.grouped(sum((c.amount for c in d.charges), Decimal(0)), d.currency)
                if d.charges
                else None
                for d in plan.drafts
            ],
        )
    if any(d.note for d in plan.drafts):
        frame.insert(1, "Note", [d.note for d in plan.drafts])
    if excesses:
        frame.insert(
            2 if "Note" in frame.columns else 1,
            "Over contract by",
            [
                money.grouped(excesses[d.invoice_key], d.currency)
                if d.invoice_key in excesses
                else None
                for d in plan.drafts
            ],
        )
    return frame


CHARGE_COLUMNS = ["Contract", "Charge", "Kind", "Service period", "Detail", "Amount", "Currency"]


def charges_frame(plan: Plan) -> pd.DataFrame:
    """Every charge the run would bill, one row each, under the invoice it goes on."""
    return pd.DataFrame(
        [
            {
                "Contract": d.contract_name,
                "Charge": line.description,
                "Kind": line.charge_kind,
                "Service period": f"{line.period_start} – {line.period_end}"
                if line.period_start and line.period_end
                else None,
                "Detail": line.detail or None,
                "Amount": money.grouped(line.amount, d.currency),
                "Currency": d.currency,
            }
            for d in plan.drafts
            for line in d.charges
        ],
        columns=CHARGE_COLUMNS,
    )


def burndown_frame(settings: Settings) -> pd.DataFrame:
    """The contract burn-down with amounts formatted per currency, for the page."""
    from sales_core.burndown import burndown

    frame = burndown(settings)
    for column in ("amount", "billed", "remaining", "monthly_fee"):
        frame[column] = [
            None if pd.isna(value) else money.grouped(Decimal(str(value)), currency)
            for value, currency in zip(frame[column], frame["currency"], strict=True)
        ]
    return frame


def _shown(value: object, kind: schema.Kind, currency: str) -> str:
    if value is None or value == ():
        return ""
    if kind is schema.MONEY:
        return money.grouped(value, currency)  # type: ignore[arg-type]
    if kind is schema.FRACTION:
        return percent(value, 1)  # type: ignore[arg-type]
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def contracts_frame(contracts: list[Contract]) -> pd.DataFrame:
    """The run's contracts with every field declared in models.Contract, under its AirTable name.

    Derived from the declaration: a field added to the model appears here with no other edit.
    """
    shown = [
        c for c in schema.columns(Contract) if c.col.airtable and c.col.kind is not schema.LINKS
    ]
    return pd.DataFrame(
        [
            {
                "Record id": contract.id,
                **{
                    str(c.col.airtable): _shown(
                        getattr(contract, c.attr), c.col.kind, contract.currency
                    )
                    for c in shown
                },
            }
            for contract in contracts
        ],
        columns=["Record id", *(str(c.col.airtable) for c in shown)],
    )


def skipped_frame(plan: Plan) -> pd.DataFrame:
    """The contracts the run does not bill, with the reason in words."""
    return pd.DataFrame(
        [
            {"Contract": s.contract_name, "Record id": s.contract_id, "Reason": s.reason}
            for s in plan.skipped
        ],
        columns=["Contract", "Record id", "Reason"],
    )


def totals(plan: Plan) -> dict[str, str]:
    """Currency -> the run's total, formatted; never summed across currencies."""
    return {currency: money.grouped(total, currency) for currency, total in plan.totals.items()}


@dataclass(frozen=True)
class RunPreview:
    """What the Invoices page shows of run M before Generate, as counts and small tables.

    The plan itself stays out: a month of a thousand drafts takes milliseconds to copy in and
    out of the page's cache, and the page needs only these. Generate plans afresh anyway.
    """

    count: int  # drafts
    totals: dict[str, str]  # currency -> formatted total
    drafts: pd.DataFrame  # plan_frame, with "Over contract by" where it applies
    over: int  # drafts that take their contract past its Amount
    charge_count: int
    charges: pd.DataFrame  # charges_frame
    contract_ids: tuple[str, ...]  # the contracts billed, for `invoicing.contracts_of`
    skipped: pd.DataFrame  # skipped_frame
    gaps: tuple[str, ...]  # earlier months not billed yet (`invoicing.unbilled_months`)


def run_preview(settings: Settings, month: Month, issue_date: date | None = None) -> RunPreview:
    """Run `month`'s preview, its drafts over contract and the earlier months not billed yet.

    The earlier months are read in a second thread meanwhile: their queries run inside DuckDB,
    outside Python's lock, while this thread works out the plan (with 3,000 contracts and
    100,000 invoices, 126 ms one after the other, 84 ms side by side).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="unbilled-months") as pool:
        gaps = pool.submit(invoicing.unbilled_months, settings, month)
        plan = invoicing.preview(settings, month, issue_date)
        over = burndown.excesses(settings, plan)
        return RunPreview(
            count=len(plan.drafts),
            totals=totals(plan),
            drafts=plan_frame(plan, over),
            over=len(over),
            charge_count=sum(len(d.charges) for d in plan.drafts),
            charges=charges_frame(plan),
            contract_ids=tuple(sorted({d.contract_id for d in plan.drafts})),
            skipped=skipped_frame(plan),
            gaps=tuple(gaps.result()),
        )


def ledger_frame(settings: Settings, statuses: list[str] | None, month: str | None) -> pd.DataFrame:
    """The generated invoices for the table, with amounts formatted per currency."""
    frame = ledger.generated_invoices(settings, statuses, month)
    if frame.empty:
        return frame
    for column in ("amount", "amount_paid", "balance"):
        frame[column] = [
            money.grouped(Decimal(str(amount)), currency)
            for amount, currency in zip(frame[column], frame["currency"], strict=True)
        ]
    return frame


def zip_of_pdfs(settings: Settings, numbers: list[str]) -> bytes:
    """Every listed invoice's PDF in one zip (rendered from the store, so always available)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number in numbers:
            info = zipfile.ZipInfo(f"{number}.pdf", date_time=(2000, 1, 1, 0, 0, 0))
            archive.writestr(info, ledger.invoice_pdf(settings, number))
    return buffer.getvalue()


def month_choices(today: date, back: int = 24, ahead: int = 3) -> list[str]:
    """YYYY-MM from `back` months before today's month to `ahead` after, newest first."""
    current = Month.of(today)
    months = [current]
    for _ in range(ahead):
        months.append(months[-1].next())
    first = Month(current.year - (back // 12), current.month)
    earlier: list[Month] = []
    month = first
    while month < current:
        earlier.append(month)
        month = month.next()
    return [str(m) for m in sorted(months + earlier, reverse=True)]


Planned = tuple[list[delivery.Message], list[tuple[str, str]]]  # what goes out, what does not


@dataclass(frozen=True)
class ReceivablesView:
    """What the Invoices page's Receivables tab reads as it opens."""

    owed: pd.DataFrame  # the payment picker's first rows (`payments.open_receivables`)
    creditable: pd.DataFrame  # the credit picker's first rows (`corrections.creditable`)
    sends: Planned  # `delivery.plan_sends`
    reminders: Planned  # `delivery.plan_reminders`
    credit_notes: pd.DataFrame  # `corrections.credit_notes`


def receivables_view(settings: Settings, today: date, first: int) -> ReceivablesView:
    """The Receivables tab's reads, each picker's `first` rows of an empty search included
    (`first` 0: no picker rows, for someone who may not record or credit anything).

    The two pickers' queries run in other threads while this one drafts the emails: each one
    scans every receivable inside DuckDB, outside Python's lock (with 100,000 invoices, 66 ms
    one after the other, 41 ms side by side).
    """

    def picker(query: Callable[[Settings, str, int], pd.DataFrame]) -> pd.DataFrame:
        return query(settings, "", first) if first else pd.DataFrame()

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="receivables") as pool:
        owed = pool.submit(picker, payments.open_receivables)
        creditable = pool.submit(picker, corrections.creditable)
        sends = delivery.plan_sends(settings)
        reminders = delivery.plan_reminders(settings, today)
        notes = corrections.credit_notes(settings)
        return ReceivablesView(owed.result(), creditable.result(), sends, reminders, notes)

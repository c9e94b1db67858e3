"""Writing the invoices made here back to AirTable: upsert on `Invoice Key`, never a second row.

The queue, its states and the push itself are `outbox.py`'s; this module says which fields an
invoice sends and who may push, and records each push in the audit log.
"""

from __future__ import annotations

from typing import Any

from sales_core import outbox, store
from sales_core.access import Actor, require
from sales_core.airtable import AirtableSource
from sales_core.config import Settings
from sales_core.ledger import audit
from sales_core.outbox import PushOutcome
from sales_core.vocabulary import InvoiceType

__all__ = ["PushOutcome", "push_pending"]


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "number": row["number"],
        "invoice_key": row["invoice_key"],
        "contract_ids": [row["contract_id"]],
        "period_start": row["period_start"],
        "period_end": row["period_end"],
        "issue_date": row["issue_date"],
        "due_date": row["due_date"],
        "amount": row["amount"],
        "currency": row["currency"],
        "status": row["status"],
        "type": InvoiceType.RECEIVABLE,
    }
    if row["paid_date"] is not None:
        fields["paid_date"] = row["paid_date"]
    return fields


def push_pending(
    settings: Settings, *, actor: Actor, source: AirtableSource | None = None
) -> PushOutcome:
    """Send every invoice made here that AirTable has not confirmed; never raises for AirTable
    faults.

    Returns how many were confirmed, how many stay pending, and the failure in words if any.
    Raises AccessDenied (nothing sent or written) unless `actor` is a biller.
    """
    require(actor, "biller", "push invoices to AirTable")

    def audited(
        con: store.Connection, sent: list[dict[str, Any]], error: str | None, reconciled: int
    ) -> None:
        numbers = [r["number"] for r in sent]
        detail = (
            f"{len(numbers)} sent"
            + (f"; failed: {error}" if error else "")
            + (f"; {reconciled} reconciled" if reconciled else "")
        )
        audit(con, actor.label, "push", numbers, detail=detail)

    return outbox.push(settings, outbox.INVOICES, _fields, source=source, audit=audited)

"""Writing the invoices made here back to AirTable: upsert on `Invoice Key`, never a second row.

The queue, its states and the push itself are `outbox.py`'s; which fields an invoice sends, and
which invoices wait for a person, are `reconcile.py`'s. This module says who may push, and
records each push in the audit log.
"""

from __future__ import annotations

from typing import Any

from sales_core import corrections, outbox, payments, reconcile, store
from sales_core.access import Actor, require
from sales_core.airtable import AirtableSource
from sales_core.config import Settings
from sales_core.ledger import audit
from sales_core.outbox import PushOutcome

__all__ = ["PushOutcome", "push_pending"]


def push_pending(
    settings: Settings, *, actor: Actor, source: AirtableSource | None = None
) -> PushOutcome:
    """Send every invoice made here that AirTable has not confirmed, the payments recorded
    on synced invoices and the credit notes made here; never raises for AirTable faults.

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

    hooks = outbox.Hooks(
        audit=audited,
        hold=lambda base, rows: reconcile.check_before_push(settings, base, rows),
        confirmed=reconcile.confirmed,
    )
    made_here = outbox.push(
        settings, outbox.INVOICES, reconcile.to_send, source=source, hooks=hooks
    )
    synced = outbox.push(
        settings,
        outbox.SYNCED_INVOICES,
        payments.fields,
        source=source,
        hooks=outbox.Hooks(
            audit=audited,
            hold=lambda base, rows: payments.check_before_push(settings, base, rows),
            confirmed=payments.confirmed,
        ),
    )
    credits = outbox.push(
        settings,
        outbox.CREDIT_NOTES,
        corrections.fields,
        source=source,
        hooks=outbox.Hooks(
            audit=audited,
            hold=lambda base, rows: corrections.check_before_push(settings, base, rows),
            confirmed=corrections.remember_links,
        ),
    )
    return made_here.plus(synced).plus(credits)

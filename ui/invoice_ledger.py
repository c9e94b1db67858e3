"""The Invoices page's last tab: the invoices made here. Their push to AirTable and its
conflicts, the table with its filters, authorizing drafts, changing one invoice, the contract
burn-down and the audit log. Not a page (Streamlit routes every file of pages/ as one)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from sales_core import invoice_views, ledger
from sales_core.access import Actor
from sales_core.config import Settings
from sales_core.errors import BillingError, SalesError
from sales_core.formatting import counted, markdown_text
from sales_core.invoice import allowed_targets
from sales_core.vocabulary import InvoiceStatus, texts
from sales_core.writeback import push_pending
from ui import invoice_panels

EVERY_RUN = "All"
STATUS_KEY = "ledger_statuses"  # the filters' keys: the page restores them (ui/view_state.py)
RUN_KEY = "ledger_run_month"

COLUMNS: dict[str, Any] = {
    "number": "Number",
    "status": "Status",
    "amount": "Amount",
    "balance": "Balance due",
    "currency": "Currency",
    "community": "Community",
    "contract_name": "Contract",
    "period_start": st.column_config.DateColumn("From", format="YYYY-MM-DD"),
    "period_end": st.column_config.DateColumn("To", format="YYYY-MM-DD"),
    "issue_date": st.column_config.DateColumn("Issued", format="YYYY-MM-DD"),
    "due_date": st.column_config.DateColumn("Due", format="YYYY-MM-DD"),
    "paid_date": st.column_config.DateColumn("Paid", format="YYYY-MM-DD"),
    "void_reason": "Void reason",
    "push_state": "AirTable",
}


def run_months(today: date) -> list[str]:
    """The Run month filter's choices: every run, then the months one can pick for a run."""
    return [EVERY_RUN, *invoice_views.month_choices(today)]


def ledger_section(
    settings: Settings,
    conflicts: pd.DataFrame,
    pending: int,
    user: Actor,
    can_bill: bool,
    today: date,
) -> None:
    """Everything about the invoices made here, the table in the middle; `conflicts` and
    `pending` (invoices not yet in AirTable) as the page read them."""
    st.subheader("Invoices generated here")
    _push(settings, pending, user, can_bill)
    invoice_panels.conflicts_panel(settings, conflicts, user, can_bill)

    filters = st.columns(2)
    statuses = filters[0].multiselect(
        "Status", texts(InvoiceStatus), placeholder="Every status", key=STATUS_KEY
    )
    run_month = filters[1].selectbox("Run month", run_months(today), key=RUN_KEY)
    made_here = invoice_views.ledger_frame(
        settings, statuses or None, None if run_month == EVERY_RUN else run_month
    )
    if made_here.empty:
        filtered = statuses or run_month != EVERY_RUN
        st.info(
            "No invoice generated here matches these filters."
            if filtered
            else "No invoice was generated here yet: the Monthly run tab makes them."
        )
    else:
        st.dataframe(
            made_here,
            placeholder="—",
            hide_index=True,
            width="stretch",
            column_order=list(COLUMNS),
            column_config=COLUMNS,
        )
        invoice_panels.bulk_authorize_panel(settings, user, can_bill, made_here, run_month)
        _change_one(settings, made_here, user, can_bill, today)
    invoice_panels.burndown_panel(settings)
    _audit_log(settings)


def _push(settings: Settings, pending: int, user: Actor, can_bill: bool) -> None:
    """The Push now button while invoices wait for AirTable (the page counts them above the
    tabs); without AirTable, how many are kept here only."""
    if not pending:
        return
    if not settings.airtable_configured:
        st.caption(
            f"{counted(pending, 'invoice')} kept here only: AirTable is not configured (demo data)."
        )
        return
    if not (can_bill and st.button("Push now", key="push")):
        return
    with st.spinner("Sending to AirTable…"):
        try:
            outcome = push_pending(settings, actor=user)
        except SalesError as exc:
            st.error(f"Push failed, the invoices stay pending: {markdown_text(exc)}")
            return
    if outcome.error:
        st.error("Push failed, the invoices stay pending: " + markdown_text(outcome.error))
        return
    sent = f"Sent {outcome.pushed} invoices to AirTable."
    if outcome.held:
        sent += f" {outcome.held} wait for a person: see Conflicts with AirTable."
    st.session_state["flash"] = sent
    st.rerun()


def _change_one(
    settings: Settings, made_here: pd.DataFrame, user: Actor, can_bill: bool, today: date
) -> None:
    """Pick one invoice of the table: its PDF, and Authorize, Mark paid or Void it."""
    st.markdown("**Change one invoice**")
    number = st.selectbox("Invoice", list(made_here["number"]), key="chosen_invoice")
    current = made_here.set_index("number").loc[number, "status"]
    st.caption(f"{number} is **{current}**.")
    invoice_panels.pdf_button(settings, number, f"Download {number}.pdf", "pdf-chosen")
    actions = st.columns(3)
    change: ledger.Change | None = None
    allowed = allowed_targets(current)
    if (
        can_bill
        and InvoiceStatus.AUTHORIZED in allowed
        and actions[0].button("Authorize", key="authorize")
    ):
        change = ledger.Change(number, InvoiceStatus.AUTHORIZED)
    if can_bill and InvoiceStatus.PAID in allowed:
        paid_on = actions[1].date_input("Paid on", value=today, max_value=today, key="paid_on")
        if actions[1].button("Mark paid", key="mark_paid"):
            change = ledger.Change(number, InvoiceStatus.PAID, paid_date=paid_on)
    if can_bill and InvoiceStatus.VOID in allowed:
        reason = actions[2].text_input("Void reason", key=f"void_reason-{number}", max_chars=500)
        mode = actions[2].radio(
            "Then",
            ["rebill", "waive"],
            format_func={
                "rebill": "bill the period again",
                "waive": "waive it (nothing is owed)",
            }.__getitem__,
            key=f"void_mode-{number}",
        )
        if actions[2].button("Void", key="void"):
            change = ledger.Change(number, InvoiceStatus.VOID, reason=reason, mode=mode)
    if not allowed:
        st.caption(
            f"A {current} invoice does not change any more: a correction is a credit note "
            f"(the Receivables tab)."
        )
    elif not can_bill:
        st.caption("Authorize, Mark paid and Void need the biller role.")
    if change is None:
        return
    try:
        ledger.change_status(settings, change, actor=user, today=today)
    except (SalesError, BillingError) as exc:
        st.error(str(exc))
    else:
        st.session_state["flash"] = f"{number} is now {change.target}."
        st.rerun()


def _audit_log(settings: Settings) -> None:
    with st.expander("Audit log"):
        st.dataframe(
            ledger.audit_log(settings),
            hide_index=True,
            width="stretch",
            placeholder="—",
            column_config={
                "logged_at": st.column_config.DatetimeColumn(
                    "When (UTC)", format="YYYY-MM-DD HH:mm"
                ),
                "actor": "Who",
                "action": "Action",
                "month": "Run month",
                "invoice_numbers": st.column_config.ListColumn("Invoices"),
                "detail": st.column_config.TextColumn("Detail", width="large"),
            },
        )

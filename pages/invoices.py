"""Invoices: the month's run, the receivables (payments, mail, credit notes) and the invoices
made here, one tab each.

Only the open tab is read and drawn. Which one is open, the run's month and the table's filters
are in the URL (`?section=Receivables`, `?month=2026-11`) and kept for the next visit.
"""

import streamlit as st

from sales_core import invoice_views, ledger, reconcile
from sales_core.billing import Month
from sales_core.vocabulary import InvoiceStatus, texts
from ui import chrome, corrections_panel, invoice_ledger, invoice_panels, invoice_run, view_state

PAGE = "invoices"
RUN, RECEIVABLES, MADE_HERE = SECTIONS = ("Monthly run", "Receivables", "Invoices made here")

with chrome.page() as (settings, status):
    user = chrome.actor(settings)
    can_bill = user.can("biller")
    st.title("Invoices")
    if not can_bill:
        st.info(
            f"**Read-only.** You are signed in as a viewer: generating, authorizing, marking paid, "
            f"voiding and pushing invoices need the biller role. To become a biller, ask "
            f"{settings.access.contact}."
        )
    if not status.has_data:
        st.info("No data yet. Press **Sync now** in the sidebar first.")
        st.stop()
    today = chrome.today()
    if flash := st.session_state.pop("flash", None):  # what the last action did
        st.success(flash)
    conflicts = reconcile.conflicts(settings)
    invoice_panels.conflicts_notice(conflicts)
    pending = ledger.pending_push_count(settings)  # invoices not yet in AirTable
    invoice_panels.pending_notice(settings, pending)

    months = invoice_views.month_choices(today)
    params = [
        view_state.choice("invoices_section", "section", "Section", SECTIONS, RUN),
        view_state.choice("run_month", "month", "Month", months, str(Month.of(today))),
        view_state.choices(invoice_ledger.STATUS_KEY, "status", "Status", texts(InvoiceStatus)),
        view_state.choice(
            invoice_ledger.RUN_KEY,
            "run",
            "Run month",
            invoice_ledger.run_months(today),
            invoice_ledger.EVERY_RUN,
        ),
    ]
    view_state.show_notes(view_state.restore(PAGE, params))
    run_tab, receivables_tab, made_here_tab = st.tabs(
        SECTIONS, key="invoices_section", on_change="rerun"
    )
    if run_tab.open:
        with run_tab:
            invoice_run.run_section(settings, status, user, can_bill, today, months)
    if receivables_tab.open:
        with receivables_tab:
            read = invoice_panels.receivables_tab(settings, status, today, can_bill)
            invoice_panels.payment_panel(settings, read, user, can_bill, today)
            invoice_panels.delivery_panel(settings, read, user, can_bill, today)
            corrections_panel.credit_panel(settings, read, user, can_bill, today)
    if made_here_tab.open:
        with made_here_tab:
            invoice_ledger.ledger_section(settings, conflicts, pending, user, can_bill, today)
    view_state.publish(PAGE, params)

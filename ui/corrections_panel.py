"""The Invoices page's credit notes: issue one against an Authorized or Paid receivable, list
them, download their PDFs (sales_core/corrections.py). Not a page."""

from __future__ import annotations

from datetime import date
from functools import partial

import streamlit as st

from sales_core import corrections, money
from sales_core.access import Actor
from sales_core.config import Settings
from sales_core.errors import SalesError
from sales_core.formatting import markdown_text
from ui import chrome, pickers
from ui.invoice_panels import ReceivablesTab
from ui.queries import cached


def credit_panel(
    settings: Settings, view: ReceivablesTab, user: Actor, can_bill: bool, today: date
) -> None:
    """Issue a credit note (billers), and the credit notes made here with their PDFs."""
    st.markdown("**Credit notes**")
    notes = view.read.credit_notes
    if can_bill:
        open_, search = pickers.narrowed(
            partial(cached, corrections.creditable, settings, view.status),
            key="credit_find",
            label="Find the invoice to credit",
            placeholder="Part of its number or its community",
            first=view.read.creditable,
        )
        if open_.empty:
            st.caption(
                f"No Authorized or Paid invoice matching “{markdown_text(search)}” holds "
                "anything to credit."
                if search
                else "No Authorized or Paid invoice holds anything to credit."
            )
        else:
            rows = open_.set_index("number")
            labels = {
                r["number"]: f"{r['number']} · {r['community'] or 'no contract'} · "
                f"{r['status']} · holds {money.text(r['holds'], r['currency'])}"
                for r in open_.to_dict("records")
            }
            cols = st.columns([3, 2, 4], vertical_alignment="bottom")
            chosen = cols[0].selectbox(
                "Invoice to credit",
                list(rows.index),
                format_func=labels.__getitem__,
                key="credit_number",
            )
            currency = str(rows.loc[chosen, "currency"])
            typed = cols[1].text_input(
                f"Amount ({currency})", key=f"credit_amount-{chosen}", max_chars=30
            )
            reason = cols[2].text_input(
                "Reason (printed)", key=f"credit_reason-{chosen}", max_chars=500
            )
            if st.button("Issue credit note", key="issue_credit"):
                try:
                    note = corrections.credit(
                        settings, chosen, typed, reason=reason, actor=user, today=today
                    )
                except SalesError as exc:
                    st.error(markdown_text(exc))
                else:
                    st.session_state["flash"] = (
                        f"{note.number}: {money.text(note.amount, note.currency)} credited on "
                        f"{chosen}; it still holds {money.text(note.remaining, note.currency)}."
                    )
                    st.rerun()
    else:
        st.caption("Issuing a credit note needs the biller role.")
    if notes.empty:
        return
    st.dataframe(
        notes[
            [
                "number",
                "credited_number",
                "amount",
                "currency",
                "reason",
                "issue_date",
                "push_state",
            ]
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "number": "Credit note",
            "credited_number": "Credits",
            "amount": "Amount",
            "currency": "Currency",
            "reason": st.column_config.TextColumn("Reason", width="large"),
            "issue_date": st.column_config.DateColumn("Issued", format="YYYY-MM-DD"),
            "push_state": "AirTable",
        },
    )
    pick = st.selectbox("Credit note PDF", list(notes["number"]), key="credit_pdf_number")
    chrome.download(
        st,
        f"Download {pick}.pdf",
        lambda: corrections.credit_note_pdf(settings, pick),
        f"{pick}.pdf",
        "application/pdf",
        key=f"credit-pdf-{pick}",
    )

"""The Invoices page's panels: conflicts with AirTable, payments, sending, the accounting
export, bulk authorize, the burn-down and a PDF's download button. Each draws one part of a tab
(ui/invoice_run.py, ui/invoice_ledger.py, the page's Receivables tab). Not a page (Streamlit
routes every file of pages/ as one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

import pandas as pd
import streamlit as st

from sales_core import accounting, delivery, invoice_views, ledger, money, payments, reconcile
from sales_core.access import Actor
from sales_core.billing import Month
from sales_core.config import Settings
from sales_core.errors import SalesError
from sales_core.formatting import counted, markdown_text
from sales_core.health import SyncStatus
from sales_core.invoice_views import ReceivablesView
from ui import pickers
from ui.queries import cached


def pdf_button(settings: Settings, number: str, label: str, key: str) -> None:
    """A download button for one invoice's PDF, rendered from the store when clicked."""
    st.download_button(
        label,
        data=partial(ledger.invoice_pdf, settings, number),
        file_name=f"{number}.pdf",
        mime="application/pdf",
        key=key,
    )


@dataclass(frozen=True)
class ReceivablesTab:
    """What the Receivables tab's panels share: the status (its data version keys the cache)
    and what the tab read as it opened (`invoice_views.receivables_view`)."""

    status: SyncStatus
    read: ReceivablesView


def receivables_tab(
    settings: Settings, status: SyncStatus, today: date, can_bill: bool
) -> ReceivablesTab:
    """The Receivables tab's reads, once per data version (a payment, a send or a credit note
    changes the version); the pickers' rows only for a biller, who alone gets the pickers."""
    first = pickers.LIMIT + 1 if can_bill else 0
    read = cached(invoice_views.receivables_view, settings, status, today, first)
    return ReceivablesTab(status, read)


# The conflicts table's headers, on this page and on Data health.
CONFLICT_COLUMNS: dict[str, Any] = {
    "number": "Number",
    "field": "Field",
    "here": "Here",
    "there": "In AirTable",
    "problem": st.column_config.TextColumn("What happened", width="large"),
}


def conflicts_notice(conflicts: pd.DataFrame) -> None:
    """One line above the tabs when invoices made here conflict with AirTable."""
    if not conflicts.empty:
        invoices = conflicts["number"].nunique()
        verbs = (
            "conflicts with AirTable and waits"
            if invoices == 1
            else "conflict with AirTable and wait"
        )
        st.warning(
            f"{counted(invoices, 'invoice')} made here {verbs} for a biller: see the tab "
            f"**Invoices made here**."
        )


def pending_notice(settings: Settings, pending: int) -> None:
    """One line above the tabs while `pending` changes made here wait to be sent to AirTable
    (`ledger.pending_push_count`)."""
    if settings.airtable_configured and pending:
        st.warning(
            f"{counted(pending, 'invoice')} not yet in AirTable: a biller's **Push now** (tab "
            f"**Invoices made here**) or the next generate sends them."
        )


def conflicts_panel(
    settings: Settings, conflicts: pd.DataFrame, user: Actor, can_bill: bool
) -> None:
    """Conflicts with AirTable (`reconcile.conflicts`): listed, and settled by a biller."""
    if not conflicts.empty:
        st.markdown("**Conflicts with AirTable**")
        st.warning(
            f"{counted(len(conflicts), 'field')} of "
            f"{counted(conflicts['number'].nunique(), 'invoice')} changed both here and in "
            f"AirTable, or changed in AirTable where this app does not "
            f"take it. Nothing is overwritten: their push waits until a biller chooses which "
            f"values stand."
        )
        st.dataframe(
            conflicts[list(CONFLICT_COLUMNS)],
            hide_index=True,
            width="stretch",
            column_config=CONFLICT_COLUMNS,
        )
        if can_bill:
            settle = st.columns([2, 1, 1], vertical_alignment="bottom")
            chosen = settle[0].selectbox(
                "Invoice to settle", list(dict.fromkeys(conflicts["number"])), key="conflict_number"
            )
            keep = None
            if settle[1].button("Keep AirTable's values", key="keep_airtable"):
                keep = "airtable"
            if settle[2].button("Keep this app's values", key="keep_here"):
                keep = "here"
            if keep is not None:
                try:
                    reconcile.resolve(settings, chosen, keep, actor=user)
                except SalesError as exc:
                    st.error(markdown_text(exc))
                else:
                    whose = "AirTable's" if keep == "airtable" else "this app's"
                    pushes = "" if keep == "airtable" else " The next push writes them to AirTable."
                    st.session_state["flash"] = f"{chosen}: {whose} values stand.{pushes}"
                    st.rerun()
        else:
            st.caption("Settling a conflict needs the biller role.")


def payment_panel(
    settings: Settings, view: ReceivablesTab, user: Actor, can_bill: bool, today: date
) -> None:
    """Record a payment on any Authorized receivable, made here or synced (payments.py)."""
    st.markdown("**Record a payment**")
    if not can_bill:
        st.caption("Recording a payment needs the biller role.")
        return
    receivable, search = pickers.narrowed(
        partial(cached, payments.open_receivables, settings, view.status),
        key="pay_find",
        label="Find the invoice paid",
        placeholder="Part of its number or its community",
        first=view.read.owed,
    )
    if receivable.empty:
        st.caption(
            f"No Authorized receivable with a balance due matches “{markdown_text(search)}”."
            if search
            else "No Authorized receivable has a balance due."
        )
    else:
        owed = receivable.set_index("number")
        choice = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
        labels = {
            r["number"]: f"{r['number']} · {r['community'] or 'no contract'} · "
            f"{money.text(r['balance'], r['currency'])} due"
            for r in receivable.to_dict("records")
        }
        paying = choice[0].selectbox(
            "Invoice",
            list(owed.index),
            format_func=labels.__getitem__,
            key="pay_number",
        )
        currency = str(owed.loc[paying, "currency"])
        typed = choice[1].text_input(
            f"Amount ({currency})",
            value=money.plain(owed.loc[paying, "balance"], currency),
            key=f"pay_amount-{paying}",
            max_chars=30,
        )
        received = choice[2].date_input("Received on", value=today, max_value=today, key="pay_on")
        reference = choice[3].text_input("Reference", key="pay_reference", max_chars=200)
        if st.button("Record payment", key="record_payment"):
            try:
                done = payments.record(
                    settings,
                    payments.Payment(
                        paying, payments.parse_amount(typed, currency), received, reference
                    ),
                    actor=user,
                    today=today,
                )
            except SalesError as exc:
                st.error(markdown_text(exc))
            else:
                st.session_state["flash"] = (
                    f"{paying}: {money.text(done.paid, currency)} recorded; paid so far "
                    f"{money.text(done.amount_paid, currency)}, balance "
                    f"{money.text(done.balance, currency)} ({done.status})."
                )
                st.rerun()


def delivery_panel(
    settings: Settings, view: ReceivablesTab, user: Actor, can_bill: bool, today: date
) -> None:
    """What would be emailed now (invoices, reminders), and the Send buttons (delivery.py)."""
    st.markdown("**Send invoices and reminders**")
    mail = settings.delivery
    to_send, not_sendable = view.read.sends
    reminders, no_reminder = view.read.reminders
    if not mail.configured:
        st.caption(
            "Nothing is sent: SMTP is not configured (set `SMTP_HOST` and `INVOICE_FROM_EMAIL`, "
            "see the README). Below is what would go out."
        )
    for title, planned, left_out, kind in (
        ("invoice emails", to_send, not_sendable, "send"),
        ("reminders", reminders, no_reminder, "remind"),
    ):
        if not planned and not left_out:
            st.caption(f"No {title} to send.")
            continue
        st.caption(f"{title.capitalize()} that would go out now: {len(planned)}")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Invoices": ", ".join(m.numbers),
                        "To": m.recipient,
                        "Subject": m.subject,
                        "Attachment": m.attachment,
                    }
                    for m in planned
                ],
                columns=["Invoices", "To", "Subject", "Attachment"],
            ),
            hide_index=True,
            width="stretch",
            placeholder="—",
        )
        if left_out:
            st.caption(
                "Left out: "
                + "; ".join(f"{number} ({why})" for number, why in left_out[:10])
                + (" …" if len(left_out) > 10 else "")
            )
        clicked_send = (
            can_bill
            and mail.configured
            and bool(planned)
            and st.button(f"Send {counted(len(planned), title.rstrip('s'))}", key=f"{kind}_mail")
        )
        if clicked_send:
            with st.spinner(f"Sending {len(planned)} {title}…"):
                mailed = delivery.send(settings, planned, actor=user, today=today)
            failed = "; ".join(f"{', '.join(m.numbers)}: {why}" for m, why in mailed.failed)
            busy = f" Taken by another run: {len(mailed.busy)}." if mailed.busy else ""
            st.session_state["flash"] = (
                f"Sent {counted(len(mailed.sent), title.rstrip('s'))}.{busy}"
            )
            if failed:
                st.error(markdown_text(f"Not sent, to try again: {failed}"))
            else:
                st.rerun()


def export_panel(settings: Settings, month: Month, month_text: str) -> None:
    """The month's accounting export downloads (accounting.py)."""
    with st.expander(f"Accounting export of {month_text}: Xero or QuickBooks Online"):
        st.caption(
            f"One row per line of the receivables issued in {month_text} that went out (Authorized "
            f"or Paid, made here or synced) and its credit notes, negative, in each product's "
            f'import columns. Xero rows use account 200 and tax type "Tax Exempt"; the CLI '
            f"(`sales-core invoices export`) can change both."
        )
        xero_col, quickbooks_col = st.columns(2)
        for column, fmt, label in (
            (xero_col, "xero", "Xero"),
            (quickbooks_col, "quickbooks", "QuickBooks"),
        ):
            column.download_button(
                f"Download for {label} (CSV)",
                data=partial(accounting.export, settings, month, fmt),
                file_name=accounting.file_name(month, fmt),
                mime="text/csv",
                on_click="ignore",
                icon=":material/download:",
                key=f"export_{fmt}",
            )


def bulk_authorize_panel(
    settings: Settings, user: Actor, can_bill: bool, made_here: pd.DataFrame, run_month: str
) -> None:
    """Authorize every Draft listed at once, or some of them (ledger.authorize_many)."""
    drafts = [
        n for n, s in zip(made_here["number"], made_here["status"], strict=True) if s == "Draft"
    ]
    if can_bill and drafts:
        st.markdown("**Authorize drafts**")
        bulk = st.columns([5, 1], vertical_alignment="bottom")
        chosen_drafts = bulk[0].multiselect(
            "Drafts to authorize",
            drafts,
            default=drafts,
            key=f"bulk_authorize-{run_month}-{len(drafts)}",
            help="Every draft listed above is chosen; remove the ones to keep as drafts.",
        )
        if bulk[1].button(
            f"Authorize {len(chosen_drafts)}", disabled=not chosen_drafts, key="authorize_many"
        ):
            try:
                authorized = sorted(ledger.authorize_many(settings, chosen_drafts, actor=user))
            except SalesError as exc:
                st.error(markdown_text(exc))
            else:
                st.session_state["flash"] = (
                    f"Authorized {counted(len(authorized), 'invoice')}: {authorized[0]}"
                    + (f" to {authorized[-1]}" if len(authorized) > 1 else "")
                    + "."
                )
                st.rerun()


def burndown_panel(settings: Settings) -> None:
    """The contract burn-down table (burndown.py)."""
    # Read only while open: at 100,000 invoices the burn-down takes a quarter of a second.
    box = st.expander(
        "Contract burn-down: each contract's Amount, billed so far and what remains",
        key="burndown_open",
        on_change="rerun",
    )
    if not box.open:
        return
    with box:
        burn = invoice_views.burndown_frame(settings)
        if burn.empty:
            st.caption("No contract has an Amount.")
        else:
            st.dataframe(
                burn,
                hide_index=True,
                width="stretch",
                placeholder="—",
                column_order=[
                    "contract",
                    "community",
                    "status",
                    "currency",
                    "amount",
                    "billed",
                    "remaining",
                    "monthly_fee",
                    "months_left",
                ],
                column_config={
                    "contract": "Contract",
                    "community": "Community",
                    "status": "Status",
                    "currency": "Currency",
                    "amount": "Amount",
                    "billed": "Billed (not void)",
                    "remaining": "Remaining",
                    "monthly_fee": "Monthly fee",
                    "months_left": st.column_config.NumberColumn(
                        "Months left", help="Whole months of the fee the remainder covers."
                    ),
                },
            )

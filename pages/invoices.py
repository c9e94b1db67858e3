"""Invoices: the month's run (preview, one click to generate) and the invoices made here."""

from datetime import date
from functools import partial

import streamlit as st

from sales_core import burndown, invoice_views, invoicing, ledger
from sales_core.billing import Month, Plan
from sales_core.errors import BillingError, SalesError
from sales_core.formatting import counted, markdown_text
from sales_core.invoice import allowed_targets
from sales_core.vocabulary import InvoiceStatus, texts
from sales_core.writeback import push_pending
from ui import chrome, corrections_panel, invoice_panels

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

    @st.cache_data(show_spinner=False, max_entries=64)
    def cached_gaps(db: str, version: int, month: str) -> list[str]:
        del db, version  # part of the cache key only
        return invoicing.unbilled_months(settings, Month.parse(month))

    def go_to(month_text: str) -> None:
        st.session_state["run_month"] = month_text

    @st.cache_data(show_spinner=False, max_entries=64)
    def cached_preview(db: str, version: int, month: str, issue_date: date | None) -> Plan:
        del db, version  # part of the cache key only
        return invoicing.preview(settings, Month.parse(month), issue_date)

    def pdf_button(number: str, label: str, key: str) -> None:
        """A download button for one invoice's PDF, rendered from the store when clicked."""
        st.download_button(
            label,
            data=partial(ledger.invoice_pdf, settings, number),
            file_name=f"{number}.pdf",
            mime="application/pdf",
            key=key,
        )

    # The run -------------------------------------------------------------------------------------
    if settings.airtable_configured and (missing := settings.seller.missing_for_billing()):
        st.warning(
            f"Invoices cannot be generated or authorized yet: set the seller's real "
            f"{markdown_text(', '.join(missing))} (environment or `[invoicing]` in "
            f"`.streamlit/secrets.toml`). The demo placeholders must never reach a real invoice."
        )
    st.subheader("Monthly invoice run")
    today = date.today()
    left, right = st.columns(2)
    choices = invoice_views.month_choices(today)
    st.session_state.setdefault("run_month", choices[3])
    month_text = left.selectbox("Month", choices, key="run_month")
    month = Month.parse(month_text)
    issue_date = right.date_input("Issue date", value=month.first, format="YYYY-MM-DD")

    plan = cached_preview(str(settings.db_path), status.data_version, month_text, issue_date)
    count = len(plan.drafts)
    if count:
        totals = invoice_views.totals(plan)
        for column, (currency, total) in zip(
            st.columns(max(len(totals), 1)), totals.items(), strict=False
        ):
            column.metric(f"Total {markdown_text(currency)}", total)
        over = burndown.excesses(settings, plan)
        if over:
            st.warning(
                f"{counted(len(over), 'draft')} would take {'its' if len(over) == 1 else 'their'} "
                f'contract past its Amount (see "Over contract by"). They are still billed: '
                f"contracts get amended, but check them first."
            )
        st.dataframe(
            invoice_views.plan_frame(plan, over), hide_index=True, width="stretch", placeholder="—"
        )
        charged = sum(len(d.charges) for d in plan.drafts)
        if charged:
            with st.expander(f"{counted(charged, 'charge')} billed with the fees (cloud costs, …)"):
                st.dataframe(
                    invoice_views.charges_frame(plan),
                    hide_index=True,
                    width="stretch",
                    placeholder="—",
                )
        # Read only while open (on_change="rerun" makes the expander report it).
        contracts_box = st.expander(
            f"The {len({d.contract_id for d in plan.drafts})} contracts billed, field by field",
            key="contracts_open",
            on_change="rerun",
        )
        if contracts_box.open:
            contracts_box.dataframe(
                invoice_views.contracts_frame(invoicing.contracts_of(settings, plan)),
                hide_index=True,
                width="stretch",
                placeholder="—",
            )
    else:
        st.info(f"Nothing to invoice for {month_text}: every contract is billed or skipped.")
    if "charges" in status.missing_tables:
        st.caption(
            "The latest sync found no Charges table in the base, so cloud costs, services and "
            "discounts are not billed. Add one (see the README's AirTable tables) and sync."
        )
    if plan.skipped:
        with st.expander(
            f"{len(plan.skipped)} contracts skipped, with the reason", expanded=count == 0
        ):
            st.dataframe(
                invoice_views.skipped_frame(plan), hide_index=True, width="stretch", placeholder="—"
            )

    ahead = month > Month.of(today)
    confirmed_ahead = True
    if can_bill and ahead and count:
        st.warning(
            f"{month_text} has not begun. Numbers follow the order of the runs, so billing it "
            f"before the months in between gives it lower numbers than theirs, and invoices are "
            f"never deleted (only voided)."
        )
        confirmed_ahead = st.checkbox(f"Yes, bill {month_text} ahead of time", key="ahead")
    gaps = cached_gaps(str(settings.db_path), status.data_version, month_text)
    confirmed_gaps = True
    if gaps:
        listed = ", ".join(gaps)
        st.warning(
            f"Earlier months are not billed yet: {listed}. Numbers follow the order of the runs, "
            f"so bill them first, oldest first."
        )
        st.button(f"Go to {gaps[0]}", key="go_to_gap", on_click=go_to, args=(gaps[0],))
        if can_bill and count:
            confirmed_gaps = st.checkbox(f"Yes, bill {month_text} before {listed}", key="gaps")
    clicked = can_bill and st.button(
        f"Generate {count} invoice{'s' if count != 1 else ''}",
        type="primary",
        disabled=count == 0 or not confirmed_ahead or not confirmed_gaps,
        key="generate",
    )
    if clicked:
        with st.status(f"Generating the invoices of {month_text}…", expanded=True) as box:
            bar = st.progress(0.0)

            def progress(message: str, fraction: float) -> None:
                box.update(label=message)
                bar.progress(min(max(fraction, 0.0), 1.0))

            try:
                result = invoicing.generate(
                    settings, month, issue_date, actor=user, progress=progress
                )
            except (SalesError, BillingError) as exc:
                box.update(label="The run failed; nothing was written.", state="error")
                st.error(str(exc))
            else:
                made = [d.number for d in result.created if d.number]
                box.update(label=f"Made {len(made)} invoices", state="complete", expanded=False)
                st.session_state["last_run"] = {
                    "month": month_text,
                    "numbers": made,
                    "push_error": result.push_error,
                    "pdf_error": result.pdf_error,
                    "repaired_pdfs": result.repaired_pdfs,
                }
                st.rerun()  # the preview above now shows the contracts as invoiced

    last_run = st.session_state.get("last_run")
    if last_run and last_run["month"] == month_text:
        numbers = last_run["numbers"]
        if numbers:
            made_range = numbers[0] if len(numbers) == 1 else f"{numbers[0]} to {numbers[-1]}"
            st.success(f"Made {counted(len(numbers), 'invoice')}: {made_range}.")
            st.download_button(
                "Download the PDF (zip)"
                if len(numbers) == 1
                else f"Download all {len(numbers)} PDFs (zip)",
                data=partial(invoice_views.zip_of_pdfs, settings, numbers),
                file_name=f"invoices-{month_text}.zip",
                mime="application/zip",
            )
            with st.expander("Download one PDF"):
                for number in numbers[:50]:
                    pdf_button(number, number, f"pdf-{number}")
                if len(numbers) > 50:
                    st.caption("The first 50 are listed here; the zip has them all.")
        else:
            st.info("Nothing new was made: those contracts were already invoiced.")
        if last_run["push_error"]:
            st.warning(
                "The invoices are saved but not yet in AirTable: "
                + markdown_text(last_run["push_error"])
            )
        if last_run.get("pdf_error"):
            st.warning(f"The invoices are saved, but {markdown_text(last_run['pdf_error'])}.")
        if repaired := last_run.get("repaired_pdfs"):
            st.info(
                f"Also wrote {len(repaired)} PDFs that were missing from earlier runs (a run "
                f"stopped after saving its invoices): {', '.join(repaired[:10])}"
                + (", …" if len(repaired) > 10 else "")
            )

    # The invoices made here ----------------------------------------------------------------------
    st.subheader("Invoices generated here")
    if flash := st.session_state.pop("flash", None):
        st.success(flash)
    pending = ledger.pending_push_count(settings)
    if pending:
        if settings.airtable_configured:
            st.warning(f"{counted(pending, 'invoice')} not yet in AirTable.")
            if can_bill and st.button("Push now", key="push"):
                with st.spinner("Sending to AirTable…"):
                    try:
                        outcome = push_pending(settings, actor=user)
                    except SalesError as exc:
                        st.error(f"Push failed, the invoices stay pending: {markdown_text(exc)}")
                    else:
                        if outcome.error:
                            st.error(
                                "Push failed, the invoices stay pending: "
                                + markdown_text(outcome.error)
                            )
                        else:
                            held = (
                                f" {outcome.held} wait for a person: see Conflicts with AirTable."
                                if outcome.held
                                else ""
                            )
                            st.session_state["flash"] = (
                                f"Sent {outcome.pushed} invoices to AirTable.{held}"
                            )
                            st.rerun()
        else:
            st.caption(
                f"{counted(pending, 'invoice')} kept here only: AirTable is not configured "
                "(demo data)."
            )

    # The sections between the push and the table (ui/invoice_panels.py).
    invoice_panels.conflicts_panel(settings, user, can_bill)
    invoice_panels.payment_panel(settings, status, user, can_bill, today)
    invoice_panels.delivery_panel(settings, status, user, can_bill, today)
    invoice_panels.export_panel(settings, month, month_text)
    corrections_panel.credit_panel(settings, status, user, can_bill, today)

    filters = st.columns(2)
    statuses = filters[0].multiselect("Status", texts(InvoiceStatus), default=texts(InvoiceStatus))
    run_month = filters[1].selectbox("Run month", ["All", *invoice_views.month_choices(today)])
    made_here = invoice_views.ledger_frame(
        settings, statuses, None if run_month == "All" else run_month
    )
    if not statuses:
        st.info("Choose at least one status to list invoices.")
        st.stop()
    if made_here.empty:
        st.info("No invoice generated here matches these filters yet.")
        st.stop()
    st.dataframe(
        made_here,
        placeholder="—",
        hide_index=True,
        width="stretch",
        column_order=[
            "number",
            "status",
            "amount",
            "balance",
            "currency",
            "community",
            "contract_name",
            "period_start",
            "period_end",
            "issue_date",
            "due_date",
            "paid_date",
            "void_reason",
            "push_state",
        ],
        column_config={
            "number": "Number",
            "community": "Community",
            "contract_name": "Contract",
            "period_start": st.column_config.DateColumn("From", format="YYYY-MM-DD"),
            "period_end": st.column_config.DateColumn("To", format="YYYY-MM-DD"),
            "amount": "Amount",
            "balance": "Balance due",
            "currency": "Currency",
            "status": "Status",
            "issue_date": st.column_config.DateColumn("Issued", format="YYYY-MM-DD"),
            "due_date": st.column_config.DateColumn("Due", format="YYYY-MM-DD"),
            "paid_date": st.column_config.DateColumn("Paid", format="YYYY-MM-DD"),
            "void_reason": "Void reason",
            "push_state": "AirTable",
        },
    )

    invoice_panels.bulk_authorize_panel(settings, user, can_bill, made_here, run_month)

    st.markdown("**Change one invoice**")
    number = st.selectbox("Invoice", list(made_here["number"]), key="chosen_invoice")
    current = made_here.set_index("number").loc[number, "status"]
    st.caption(f"{number} is **{current}**.")
    pdf_button(number, f"Download {number}.pdf", "pdf-chosen")
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
            f"(Credit notes, above)."
        )
    elif not can_bill:
        st.caption("Authorize, Mark paid and Void need the biller role.")
    if change is not None:
        try:
            ledger.change_status(settings, change, actor=user, today=today)
        except (SalesError, BillingError) as exc:
            st.error(str(exc))
        else:
            st.session_state["flash"] = f"{number} is now {change.target}."
            st.rerun()

    invoice_panels.burndown_panel(settings)

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

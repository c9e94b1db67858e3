"""The Invoices page's first tab: the month's run (preview, one click to generate, the PDFs of
what was made) and the month's accounting export. Not a page (Streamlit routes every file of
pages/ as one)."""

from __future__ import annotations

from datetime import date
from functools import partial

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from sales_core import invoice_views, invoicing
from sales_core.access import Actor
from sales_core.billing import Month
from sales_core.config import Settings
from sales_core.errors import BillingError, SalesError
from sales_core.formatting import counted, markdown_text
from sales_core.health import SyncStatus
from sales_core.invoice_views import RunPreview
from ui import invoice_panels

GAPS_LISTED = 6  # earlier unbilled months named in the warning; the rest are counted


@st.cache_data(show_spinner=False, max_entries=64)
def _preview(
    db: str, version: int, month: str, issue_date: date | None, _settings: Settings
) -> RunPreview:
    del db, version  # part of the cache key only
    return invoice_views.run_preview(_settings, Month.parse(month), issue_date)


def _go_to(month_text: str) -> None:
    st.session_state["run_month"] = month_text


def gaps_text(gaps: list[str]) -> str:
    """'2026-01, 2026-05'; or, for many, the oldest ones, how many more, and the newest."""
    if len(gaps) <= GAPS_LISTED + 1:  # hiding one month would save nothing
        return ", ".join(gaps)
    hidden = len(gaps) - GAPS_LISTED
    return f"{', '.join(gaps[: GAPS_LISTED - 1])}, {hidden} more months, {gaps[-1]}"


def _issue_date(column: DeltaGenerator, month: Month) -> date:
    """The issue date input, the month's first day unless changed; a change is kept for that
    month while another tab is open (Streamlit forgets the state of a widget not drawn)."""
    key = f"issue_date-{month}"
    kept: dict[str, date] = st.session_state.setdefault("_kept_issue_dates", {})
    if key not in st.session_state:
        st.session_state[key] = kept.get(key, month.first)
    chosen: date = column.date_input("Issue date", format="YYYY-MM-DD", key=key)
    kept[key] = chosen
    return chosen


def run_section(
    settings: Settings,
    status: SyncStatus,
    user: Actor,
    can_bill: bool,
    today: date,
    months: list[str],
) -> None:
    """The month picked among `months` (its key `run_month` is restored by the page), its
    preview, the warnings before billing, the Generate button, what the last run made, and the
    month's export."""
    if settings.airtable_configured and (missing := settings.seller.missing_for_billing()):
        st.warning(
            f"Invoices cannot be generated or authorized yet: set the seller's real "
            f"{markdown_text(', '.join(missing))} (environment or `[invoicing]` in "
            f"`.streamlit/secrets.toml`). The demo placeholders must never reach a real invoice."
        )
    st.subheader("Monthly invoice run")
    left, right = st.columns(2)
    month_text = left.selectbox("Month", months, key="run_month")
    month = Month.parse(month_text)
    issue_date = _issue_date(right, month)

    view = _preview(str(settings.db_path), status.data_version, month_text, issue_date, settings)
    count = view.count
    if count:
        _show_preview(settings, view)
    else:
        st.info(f"Nothing to invoice for {month_text}: every contract is billed or skipped.")
    if "charges" in status.missing_tables:
        st.caption(
            "The latest sync found no Charges table in the base, so cloud costs, services and "
            "discounts are not billed. Add one (see the README's AirTable tables) and sync."
        )
    if len(view.skipped):
        with st.expander(
            f"{len(view.skipped)} contracts skipped, with the reason", expanded=count == 0
        ):
            st.dataframe(view.skipped, hide_index=True, width="stretch", placeholder="—")

    ahead = month > Month.of(today)
    confirmed_ahead = True
    if can_bill and ahead and count:
        st.warning(
            f"{month_text} has not begun. Numbers follow the order of the runs, so billing it "
            f"before the months in between gives it lower numbers than theirs, and invoices are "
            f"never deleted (only voided)."
        )
        confirmed_ahead = st.checkbox(f"Yes, bill {month_text} ahead of time", key="ahead")
    gaps = list(view.gaps)
    confirmed_gaps = True
    if gaps:
        listed = gaps_text(gaps)
        st.warning(
            f"Earlier months are not billed yet: {listed}. Numbers follow the order of the runs, "
            f"so bill them first, oldest first."
        )
        offered = gaps[0] in months
        st.button(
            f"Go to {gaps[0]}",
            key="go_to_gap",
            on_click=_go_to,
            args=(gaps[0],),
            disabled=not offered,
        )
        if not offered:
            st.caption(
                f"{gaps[0]} is older than the months offered here: bill it with "
                f"`sales-core invoices generate --month {gaps[0]}`."
            )
        if can_bill and count:
            confirmed_gaps = st.checkbox(f"Yes, bill {month_text} before {listed}", key="gaps")
    clicked = can_bill and st.button(
        f"Generate {count} invoice{'s' if count != 1 else ''}",
        type="primary",
        disabled=count == 0 or not confirmed_ahead or not confirmed_gaps,
        key="generate",
    )
    if clicked:
        _generate(settings, user, month, issue_date)
    _last_run(settings, month_text)
    invoice_panels.export_panel(settings, month, month_text)


def _show_preview(settings: Settings, view: RunPreview) -> None:
    """The run's totals, the over-contract warning, the drafts, their charges and contracts."""
    for column, (currency, total) in zip(
        st.columns(max(len(view.totals), 1)), view.totals.items(), strict=False
    ):
        column.metric(f"Total {markdown_text(currency)}", total)
    if view.over:
        st.warning(
            f"{counted(view.over, 'draft')} would take {'its' if view.over == 1 else 'their'} "
            f'contract past its Amount (see "Over contract by"). They are still billed: '
            f"contracts get amended, but check them first."
        )
    st.dataframe(view.drafts, hide_index=True, width="stretch", placeholder="—")
    if view.charge_count:
        with st.expander(
            f"{counted(view.charge_count, 'charge')} billed with the fees (cloud costs, …)"
        ):
            st.dataframe(view.charges, hide_index=True, width="stretch", placeholder="—")
    # Read only while open (on_change="rerun" makes the expander report it).
    contracts_box = st.expander(
        f"The {len(view.contract_ids)} contracts billed, field by field",
        key="contracts_open",
        on_change="rerun",
    )
    if contracts_box.open:
        contracts_box.dataframe(
            invoice_views.contracts_frame(invoicing.contracts_of(settings, view.contract_ids)),
            hide_index=True,
            width="stretch",
            placeholder="—",
        )


def _generate(settings: Settings, user: Actor, month: Month, issue_date: date) -> None:
    """Make the month's invoices with the progress shown; remember what was made, then rerun."""
    with st.status(f"Generating the invoices of {month}…", expanded=True) as box:
        bar = st.progress(0.0)

        def progress(message: str, fraction: float) -> None:
            box.update(label=message)
            bar.progress(min(max(fraction, 0.0), 1.0))

        try:
            result = invoicing.generate(settings, month, issue_date, actor=user, progress=progress)
        except (SalesError, BillingError) as exc:
            box.update(label="The run failed; nothing was written.", state="error")
            st.error(str(exc))
            return
        made = [d.number for d in result.created if d.number]
        box.update(label=f"Made {counted(len(made), 'invoice')}", state="complete", expanded=False)
        st.session_state["last_run"] = {
            "month": str(month),
            "numbers": made,
            "push_error": result.push_error,
            "pdf_error": result.pdf_error,
            "repaired_pdfs": result.repaired_pdfs,
        }
    st.rerun()  # the preview above now shows the contracts as invoiced


def _last_run(settings: Settings, month_text: str) -> None:
    """What the last run of this month made in this session: numbers, PDFs, what went wrong."""
    last_run = st.session_state.get("last_run")
    if not last_run or last_run["month"] != month_text:
        return
    numbers = last_run["numbers"]
    if numbers:
        made_range = numbers[0] if len(numbers) == 1 else f"{numbers[0]} to {numbers[-1]}"
        st.success(f"Made {counted(len(numbers), 'invoice')}: {made_range}.")
        st.caption(
            "They are Drafts: authorize them on the tab **Invoices made here**, then send them "
            "on the tab **Receivables**."
        )
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
                invoice_panels.pdf_button(settings, number, number, f"pdf-{number}")
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

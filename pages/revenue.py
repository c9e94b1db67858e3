"""Revenue: MRR by month, invoiced against paid, receivables aging, communities, renewals.

One tab per section (ui/revenue_sections.py); only the open one is read and drawn, and which
one is open is in the URL (`?section=Receivables`) like every filter of the page.
"""

import streamlit as st

from sales_core.formatting import markdown_text
from sales_core.metrics import revenue
from ui import chrome, links, revenue_sections, view_state
from ui.queries import cached

PAGE = revenue_sections.PAGE
SECTIONS = {
    "Recurring revenue": revenue_sections.recurring,
    "Receivables": revenue_sections.receivables,
    "By community": revenue_sections.communities,
    "Renewals": revenue_sections.renewals,
}

with chrome.page() as (settings, status):
    st.title("Revenue")
    if not status.has_data:
        st.info("No data yet. Press **Sync now** in the sidebar to load contracts and invoices.")
        st.stop()
    known = cached(revenue.revenue_currencies, settings, status)
    if not known:
        st.info("The data holds no contracts or invoices yet.")
        st.stop()

    record = links.record_links(settings, status)
    # Every filter, the open tab and every chart pick are in the URL and kept for the next visit
    # (ui/view_state.py).
    names = list(SECTIONS)
    top_params = [
        view_state.choice("revenue_currency", "currency", "Currency", known, known[0]),
        view_state.choice("revenue_section", "section", "Section", names, names[0]),
    ]
    view_state.show_notes(view_state.restore(PAGE, top_params))
    picker, note = st.columns([1, 4], vertical_alignment="bottom")
    currency = picker.selectbox("Currency", known, key="revenue_currency")
    note.caption(
        f"Amounts in {markdown_text(currency)}: totals are never added across currencies. "
        "The address bar holds the tab, the filters and the bars picked: a link to this view "
        "shows it again."
    )
    view = revenue_sections.View(settings, status, currency, chrome.today(), record)
    for tab, draw in zip(
        st.tabs(names, key="revenue_section", on_change="rerun"), SECTIONS.values(), strict=True
    ):
        if tab.open:
            with tab:
                draw(view)
    view_state.publish(PAGE, top_params)

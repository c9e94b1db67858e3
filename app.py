"""Overview, the home page: where the data comes from, how fresh it is, what it holds and its
health.

The app is Streamlit's own multipage layout: this script is the home page and each file in
`pages/` is a page (`streamlit run app.py`). What the pages share lives in `ui/`.
"""

from functools import partial

import streamlit as st

from sales_core import money
from sales_core.formatting import counted, markdown_text, money_table
from sales_core.metrics.overview import OVERVIEW_COLUMNS, overview_tiles
from ui import chrome, view_state
from ui.queries import cached

with chrome.page() as (settings, status):
    st.title("Sales & invoicing console")

    source = (
        f"AirTable base `{settings.base_id}`" if settings.airtable_configured else "the demo data"
    )
    if not status.has_data:
        st.info(f"No data yet. Press **Sync now** in the sidebar to copy {source} into the app.")
        if status.last_run_status == "failed":
            st.error(f"The last sync failed: {markdown_text(status.last_run_error)}")
        st.stop()

    assert status.last_ok_at is not None
    st.markdown(
        f"Reading **{source}**. Last synced **{chrome.ago(status.last_ok_at)}** "
        f"({status.last_ok_at:%Y-%m-%d %H:%M} UTC, from {status.last_ok_source})."
    )
    if status.last_run_status == "failed":
        st.warning(
            f"The latest sync failed, so this is the data of the sync before it. "
            f"Reason: {status.last_run_error}"
        )

    today = chrome.today()
    tiles = cached(overview_tiles, settings, status, today)
    st.subheader("Key figures")
    if tiles.empty:
        st.info("The data holds no opportunities, contracts or invoices yet.")
    else:
        by_currency = tiles.set_index("currency")
        # Totals are never summed across currencies: one currency at a time, all of them below.
        currencies = list(by_currency.index)
        default = "USD" if "USD" in currencies else currencies[0]
        params = [
            view_state.choice("overview_currency", "currency", "Currency", currencies, default)
        ]
        view_state.show_notes(view_state.restore("overview", params))
        currency = st.segmented_control("Currency", currencies, key="overview_currency") or default
        view_state.publish("overview", params)
        row = by_currency.loc[currency]
        st.caption("Rounded to whole units (M: millions); *Every currency* below has the cents.")
        tile = partial(money.tile, currency=currency)
        change = partial(money.tile, currency=currency, signed=True)
        chrome.tiles(
            st.columns(4),
            [
                chrome.Tile("Open pipeline", tile(row["open_pipeline"])),
                chrome.Tile(
                    "Weighted pipeline",
                    tile(row["weighted_pipeline"]),
                    help="Each open deal's value × its probability (rating ÷ 5, else the stage's "
                    "default).",
                ),
                chrome.Tile(
                    "MRR",
                    tile(row["mrr"]),
                    help="Monthly fees of the contracts in force today (Active or Ended, covering "
                    "today).",
                    delta=f"{change(row['mrr_change'])} vs a month ago",
                    delta_on=bool(row["mrr_change"]),
                ),
                chrome.Tile("ARR", tile(row["arr"]), help="12 × MRR."),
            ],
        )
        chrome.tiles(
            st.columns(4),
            [
                chrome.Tile(
                    f"Invoiced in {today:%B}",
                    tile(row["invoiced_this_month"]),
                    help="Receivables issued this month (Authorized or Paid), compared with all of "
                    "last month.",
                    delta=f"{change(row['invoiced_change'])} vs last month",
                    delta_on=bool(row["invoiced_change"]),
                ),
                chrome.Tile(
                    "Receivables outstanding",
                    tile(row["receivables"]),
                    help="Receivables issued and not yet paid (status Authorized).",
                ),
                chrome.Tile(
                    "More than 60 days past due",
                    tile(row["receivables_over_60"]),
                    help="Outstanding receivables whose due date is more than 60 days ago.",
                ),
                chrome.Tile(
                    "Deals past expected close",
                    f"{int(row['past_close']):,}",
                    help="Open deals whose Expected Close Date is already past: move the date or "
                    "close the deal (flagged on the Pipeline page).",
                ),
            ],
        )
        past_close = int(row["past_close"])
        if past_close:
            st.page_link(
                "pages/pipeline.py",
                label=f"List the {counted(past_close, 'deal')} past "
                f"{'its' if past_close == 1 else 'their'} expected close date",
                query_params={"currency": currency, "past_close": "1"},
            )
        with st.expander("Every currency"):
            st.dataframe(
                money_table(tiles, OVERVIEW_COLUMNS),
                placeholder="—",
                hide_index=True,
                width="stretch",
                column_config={
                    "currency": "Currency",
                    "open_pipeline": "Open pipeline",
                    "weighted_pipeline": "Weighted pipeline",
                    "past_close": "Deals past expected close",
                    "mrr": "MRR",
                    "arr": "ARR",
                    "invoiced_this_month": f"Invoiced in {today:%B}",
                    "receivables": "Receivables outstanding",
                    "receivables_over_60": "> 60 days past due",
                },
            )
        st.page_link("pages/pipeline.py", label="Open the pipeline")
        st.page_link("pages/revenue.py", label="Open revenue")

    st.subheader("Records")
    columns = st.columns(4)
    labels = {
        "opportunities": "Opportunities",
        "contracts": "Contracts",
        "invoices": "Invoices",
        "qualifications": "Assessments",
    }
    for column, (table, label) in zip(columns, labels.items(), strict=True):
        made = status.made_here.get(table, 0)
        column.metric(
            label,
            f"{status.total(table):,}",
            help=f"{status.counts[table]:,} synced and {made:,} made here since" if made else None,
        )

    st.subheader("Data health")
    if status.rejected or status.warnings:
        st.markdown(
            f"**{status.rejected}** quarantined record{'s' if status.rejected != 1 else ''} "
            f"(not loaded) and **{status.warnings}** warning{'s' if status.warnings != 1 else ''} "
            f"from the last sync."
        )
    else:
        st.markdown("The last sync found no problems in the records.")
    st.page_link("pages/data_health.py", label="Open Data health")

"""Pipeline: funnel, weighted pipeline by close month, win rate, stale deals, the table."""

from datetime import date

import streamlit as st

from sales_core.charts import funnel_chart, weighted_by_month_chart
from sales_core.export import safe_csv
from sales_core.formatting import markdown_text, percent
from sales_core.metrics import pipeline
from sales_core.metrics.common import currencies
from ui import chrome
from ui.queries import cached

TABLE_ROWS = 1_000  # rows sent to the browser; the CSV has them all
STALE_ROWS = 200

settings, status = chrome.page_start()
st.title("Pipeline")
if not status.has_data:
    st.info("No data yet. Press **Sync now** in the sidebar to load the pipeline.")
    st.stop()
if status.counts["opportunities"] == 0:
    st.info("The data holds no opportunities yet.")
    st.stop()

today = chrome.today()
options = cached(pipeline.filter_options, settings, status)
known = cached(currencies, settings, status)

top = st.columns([1, 2, 2, 2, 3])
currency = top[0].selectbox("Currency", known, key="pipeline_currency")
owners = top[1].multiselect("Owner", options.owners, placeholder="Every owner")
categories = top[2].multiselect("Category", options.categories, placeholder="Every category")
stages = top[3].multiselect("Stage", options.stages, placeholder="Every stage")
close_from: date | None = None
close_to: date | None = None
if options.first_close is not None and options.last_close is not None:
    chosen = top[4].date_input(
        "Expected close between",
        value=(options.first_close, options.last_close),
        min_value=options.first_close,
        max_value=options.last_close,
        key="pipeline_close",
    )
    # Only a narrowed range filters: deals without an expected close date stay in view.
    full = (options.first_close, options.last_close)
    if isinstance(chosen, tuple) and len(chosen) == 2 and tuple(chosen) != full:
        close_from, close_to = chosen
flt = pipeline.OpportunityFilter(
    currency=currency,
    owners=tuple(owners),
    categories=tuple(categories),
    stages=tuple(stages),
    close_from=close_from,
    close_to=close_to,
)
st.caption(
    f"Amounts in {markdown_text(currency)}: totals are never added across currencies. The "
    "filters apply to "
    "every part of the page; the win rate uses owner and category only."
)

left, right = st.columns(2)
stage_counts = cached(pipeline.funnel, settings, status, flt)
if stage_counts["opportunities"].sum() == 0:
    left.info("No opportunity matches the filters.")
else:
    left.plotly_chart(funnel_chart(stage_counts, currency), width="stretch")
    missing = int(stage_counts["without_value"].sum())
    unknown = stage_counts.loc[~stage_counts["known"] & (stage_counts["opportunities"] > 0)]
    notes = []
    if missing:
        notes.append(f"{missing} without a value (counted, not in the totals)")
    if len(unknown):
        names = ", ".join(f"“{markdown_text(s)}”" for s in unknown["stage"])
        notes.append(f"stages the schema does not know, kept as they are: {names}")
    if notes:
        left.caption("Opportunities: " + "; ".join(notes) + ".")
by_month = cached(pipeline.weighted_by_close_month, settings, status, flt)
if by_month.empty:
    right.info("No open opportunity with a value and an expected close date matches.")
else:
    right.plotly_chart(weighted_by_month_chart(by_month, currency), width="stretch")

st.subheader("Win rate and sales cycle, last 12 months")
wins = cached(pipeline.win_rate, settings, status, flt, today)
cols = st.columns(4)
cols[0].metric("Win rate", percent(wins.win_rate))
cols[1].metric("Won", f"{wins.won:,}")
cols[2].metric("Lost", f"{wins.lost:,}")
cols[3].metric(
    "Average sales cycle",
    "–" if wins.average_cycle_days is None else f"{wins.average_cycle_days:,.0f} days",
)
if wins.basis == "history":
    st.caption(
        f"From the stage history the sync keeps (since {wins.history_since:%Y-%m-%d}): deals "
        f"that moved to Closed—won or Closed—lost after {wins.since:%Y-%m-%d}, every currency."
    )
else:
    since = f"since {wins.history_since:%Y-%m-%d}" if wins.history_since else "not yet"
    st.caption(
        f"The stage history the sync keeps does not cover 12 months yet (it runs {since}), so "
        f"these figures use the record dates instead: closed deals whose Expected Close Date "
        f"is after {wins.since:%Y-%m-%d}, and the days from their creation to that date."
    )

st.subheader("Stale deals")
days = st.number_input(
    "No activity for more than (days)", min_value=1, max_value=3650, value=30, key="stale_days"
)
stale = cached(pipeline.stale_deals, settings, status, flt, today, int(days), STALE_ROWS)
if stale.empty:
    st.success(f"Every open deal that matches had some activity in the last {days} days.")
else:
    total = int(stale["total"].iloc[0])
    st.markdown(
        f"**{total:,}** open deal{'s' if total != 1 else ''} quiet for more than {days} days."
    )
    st.dataframe(
        stale.drop(columns=["total", "organization"]),  # the names carry the organisation
        placeholder="—",
        hide_index=True,
        width="stretch",
        column_config={
            "name": st.column_config.TextColumn("Opportunity", width="large"),
            "stage": "Stage",
            "owner": "Owner",
            "value": st.column_config.NumberColumn(f"Value ({currency})", format="localized"),
            "last_activity": st.column_config.DateColumn("Last activity"),
            "days_quiet": st.column_config.NumberColumn("Days quiet"),
        },
    )
    if total > len(stale):
        st.caption(f"The {len(stale):,} quietest of {total:,} are listed.")

st.subheader("Opportunities")
table = cached(pipeline.opportunity_table, settings, status, flt, TABLE_ROWS)
matching = int(table["total"].iloc[0]) if len(table) else 0
if table.empty:
    st.info("No opportunity matches the filters.")
else:
    st.dataframe(
        table,
        placeholder="—",
        hide_index=True,
        width="stretch",
        # the MANIAC-T columns early, where they show without scrolling sideways
        column_order=[
            "name",
            "stage",
            "score",
            "recommendation",
            "qualify",
            "value",
            "weighted",
            "expected_close",
            "owner",
            "probability",
            "category",
            "last_activity",
            "organization",
        ],
        column_config={
            "name": st.column_config.TextColumn("Opportunity", width="large"),
            "organization": "Organization",
            "stage": "Stage",
            "value": st.column_config.NumberColumn(f"Value ({currency})", format="localized"),
            "probability": st.column_config.NumberColumn("Probability", format="percent"),
            "weighted": st.column_config.NumberColumn(f"Weighted ({currency})", format="localized"),
            "expected_close": st.column_config.DateColumn("Expected close"),
            "owner": "Owner",
            "category": "Category",
            "last_activity": st.column_config.DateColumn("Last activity"),
            "score": st.column_config.NumberColumn("MANIAC-T score", format="%d"),
            "recommendation": "Recommendation",
            "qualify": st.column_config.LinkColumn("Qualify", display_text="Open checklist"),
        },
    )
    shown = (
        f"All {matching:,}"
        if matching <= len(table)
        else f"The first {len(table):,} of {matching:,}"
    )
    st.caption(f"{shown} matching opportunities, open deals first by expected close date.")

    def opportunities_csv() -> bytes:
        # Made on click, on its own thread: every matching row, not only those shown.
        return safe_csv(
            pipeline.opportunity_table(settings, flt).drop(columns=["total", "qualify"]),
            pipeline.CSV_COLUMNS,
        )

    st.download_button(
        f"Download {matching:,} opportunities (CSV)",
        data=opportunities_csv,
        file_name=f"opportunities-{currency}-{today:%Y-%m-%d}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )

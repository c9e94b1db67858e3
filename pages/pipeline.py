"""Pipeline: funnel, weighted pipeline by close month, win rate, stale deals, the table."""

from dataclasses import replace
from datetime import date

import streamlit as st

from sales_core.charts import funnel_chart, weighted_by_month_chart
from sales_core.formatting import markdown_text, percent
from sales_core.metrics import pipeline
from sales_core.metrics.common import currencies
from ui import chrome, links, view_state
from ui.queries import cached

PAGE = "pipeline"
TABLE_ROWS = 1_000  # rows sent to the browser; the CSV has them all
STALE_ROWS = 200

with chrome.page() as (settings, status):
    st.title("Pipeline")
    if not status.has_data:
        st.info("No data yet. Press **Sync now** in the sidebar to load the pipeline.")
        st.stop()
    if status.counts["opportunities"] == 0:
        st.info("The data holds no opportunities yet.")
        st.stop()

    today = chrome.today()
    record = links.record_links(settings, status)
    options = cached(pipeline.filter_options, settings, status)
    known = cached(currencies, settings, status)
    window = cached(pipeline.closing_window, settings, status, today)

    # Every filter is in the URL and kept for the next visit (ui/view_state.py).
    params = [
        view_state.choice("pipeline_currency", "currency", "Currency", known, known[0]),
        view_state.choices("pipeline_owners", "owner", "Owner", options.owners),
        view_state.choices("pipeline_categories", "category", "Category", options.categories),
        view_state.choices("pipeline_stages", "stage", "Stage", options.stages),
        view_state.choice("pipeline_funnel", "funnel", "Funnel stage", options.stages, None),
        view_state.whole_number("stale_days", "stale", "Stale days", 1, 3650, 30),
        view_state.flag("pipeline_past_close", "past_close", "Past close"),
    ]
    if options.first_close is not None and options.last_close is not None:
        params.append(
            view_state.date_range(
                "pipeline_close", "close", "Expected close", options.first_close, options.last_close
            )
        )
    view_state.show_notes(view_state.restore(PAGE, params))

    top = st.columns([1, 2, 2, 2, 3])
    currency = top[0].selectbox("Currency", known, key="pipeline_currency")
    owners = top[1].multiselect(
        "Owner", options.owners, placeholder="Every owner", key="pipeline_owners"
    )
    categories = top[2].multiselect(
        "Category", options.categories, placeholder="Every category", key="pipeline_categories"
    )
    stages = top[3].multiselect(
        "Stage", options.stages, placeholder="Every stage", key="pipeline_stages"
    )
    close_from: date | None = None
    close_to: date | None = None
    if options.first_close is not None and options.last_close is not None:
        chosen = top[4].date_input(
            "Expected close between",
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
        "filters apply to every part of the page; the win rate uses owner and category only. "
        "The address bar holds the filters: a link to this view shows it again."
    )

    left, right = st.columns(2)
    stage_counts = cached(pipeline.funnel, settings, status, flt, window)
    funnel_stages = [str(s) for s in stage_counts["stage"]]
    if st.session_state.get("pipeline_funnel") not in (None, *funnel_stages):
        st.session_state["pipeline_funnel"] = None  # a stage the other filters left out
    focus = st.session_state.get("pipeline_funnel")
    if stage_counts["opportunities"].sum() == 0:
        left.info("No opportunity matches the filters.")
    else:
        left.plotly_chart(
            funnel_chart(stage_counts, currency, window.words, focus),
            width="stretch",
            key="funnel_chart",
            on_select=view_state.focus_from_chart("funnel_chart", "pipeline_funnel", funnel_stages),
            selection_mode="points",
        )
        missing = int(stage_counts["without_value"].sum())
        unknown = stage_counts.loc[~stage_counts["known"] & (stage_counts["opportunities"] > 0)]
        notes = ["click a stage to list its deals in the table below"]
        if missing:
            notes.append(f"{missing} without a value (counted, not in the totals)")
        if len(unknown):
            names = ", ".join(f"“{markdown_text(s)}”" for s in unknown["stage"])
            notes.append(f"stages the schema does not know, kept as they are: {names}")
        left.caption("Opportunities: " + "; ".join(notes) + ".")
    by_month = cached(pipeline.weighted_by_close_month, settings, status, flt)
    if by_month.empty:
        right.info("No open opportunity with a value and an expected close date matches.")
    else:
        right.plotly_chart(weighted_by_month_chart(by_month, currency), width="stretch")

    st.subheader(f"Win rate and sales cycle, {window.words}")
    wins = cached(pipeline.win_rate, settings, status, flt, window)
    cols = st.columns(4)
    cols[0].metric("Win rate", percent(wins.win_rate))
    cols[1].metric("Won", f"{wins.won:,}")
    cols[2].metric("Lost", f"{wins.lost:,}")
    cols[3].metric(
        "Average sales cycle",
        "–" if wins.average_cycle_days is None else f"{wins.average_cycle_days:,.0f} days",
    )
    if window.basis == "history":
        st.caption(
            f"From the stage history the sync keeps (since {window.history_since:%Y-%m-%d}): deals "
            f"that moved to Closed—won or Closed—lost after {window.since:%Y-%m-%d}, every "
            "currency. The funnel's closed stages count the same deals."
        )
    else:
        since = f"since {window.history_since:%Y-%m-%d}" if window.history_since else "not yet"
        st.caption(
            f"The stage history the sync keeps does not cover 12 months yet (it runs {since}), so "
            f"these figures use the record dates instead: closed deals whose Expected Close Date "
            f"is after {window.since:%Y-%m-%d}, and the days from their creation to that date. "
            "The funnel's closed stages count the same deals."
        )

    st.subheader("Stale deals")
    days = st.number_input(
        "No activity for more than (days)", min_value=1, max_value=3650, key="stale_days"
    )
    stale = cached(pipeline.stale_deals, settings, status, flt, today, int(days), STALE_ROWS)
    if stale.empty:
        st.success(f"Every open deal that matches had some activity in the last {days} days.")
    else:
        total = int(stale["total"].iloc[0])
        st.markdown(
            f"**{total:,}** open deal{'s' if total != 1 else ''} quiet for more than {days} days."
        )
        # the names carry the organisation
        stale_shown, stale_links = links.linked(
            stale.drop(columns=["total", "organization"]), record, "opportunities", after="name"
        )
        st.dataframe(
            stale_shown,
            placeholder="—",
            hide_index=True,
            width="stretch",
            column_config={
                **stale_links,
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
    table_flt = flt
    if focus is not None:
        table_flt = replace(table_flt, stages=(focus,))
        picked, clear = st.columns([4, 1], vertical_alignment="center")
        picked.info(f"Stage **{markdown_text(focus)}**, picked in the funnel.")
        if clear.button("Show every stage", key="funnel_clear"):
            st.session_state["pipeline_funnel"] = None
            st.rerun()
    overdue = cached(
        pipeline.opportunity_table, settings, status, replace(flt, past_close_on=today), today, 1
    )
    past_close = int(overdue["total"].iloc[0]) if len(overdue) else 0
    if past_close:
        st.warning(
            f"**{past_close:,}** open deal{'s are' if past_close != 1 else ' is'} past "
            f"{'their' if past_close != 1 else 'its'} expected close date (flagged ⚠ below): "
            "move the date or close the deal."
        )
    only_past = st.toggle("Only deals past their expected close date", key="pipeline_past_close")
    if only_past:
        table_flt = replace(table_flt, past_close_on=today)
    table = cached(pipeline.opportunity_table, settings, status, table_flt, today, TABLE_ROWS)
    matching = int(table["total"].iloc[0]) if len(table) else 0
    if table.empty:
        st.info("No opportunity matches the filters.")
    else:
        shown_table, table_links = links.linked(
            table.assign(flag=["⚠" if p else "" for p in table["past_close"]]),
            record,
            "opportunities",
            after="name",
        )
        st.dataframe(
            shown_table,
            placeholder="—",
            hide_index=True,
            width="stretch",
            # the MANIAC-T columns early, where they show without scrolling sideways
            column_order=[
                "name",
                *table_links,
                "stage",
                "flag",
                "expected_close",
                "score",
                "recommendation",
                "qualify",
                "value",
                "weighted",
                "owner",
                "probability",
                "category",
                "last_activity",
                "organization",
            ],
            column_config={
                **table_links,
                # medium: the MANIAC-T columns and the checklist link stay in view at 1400 px
                "name": st.column_config.TextColumn("Opportunity", width="medium"),
                "organization": "Organization",
                "stage": "Stage",
                "flag": st.column_config.TextColumn(
                    "Past close",
                    width="small",
                    help="⚠: open, and its expected close date is already past.",
                ),
                "value": st.column_config.NumberColumn(f"Value ({currency})", format="localized"),
                "probability": st.column_config.NumberColumn("Probability", format="percent"),
                "weighted": st.column_config.NumberColumn(
                    f"Weighted ({currency})", format="localized"
                ),
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
        # Made on click: every matching row, not only those shown.
        chrome.csv_download(
            st,
            f"Download {matching:,} {'opportunity' if matching == 1 else 'opportunities'} (CSV)",
            lambda: pipeline.opportunity_table(settings, table_flt, today).drop(
                columns=["total", "qualify"]
            ),
            f"opportunities-{currency}-{today:%Y-%m-%d}.csv",
            key="opportunities_csv",
            columns=pipeline.CSV_COLUMNS,
        )

    view_state.publish(PAGE, params)

"""The Revenue page's four sections, one per tab: recurring revenue (MRR, invoiced and paid),
receivables (aging, statements by community), revenue by community, and the renewal radar.

The page draws only the open tab's section (`st.tabs(..., on_change="rerun")`): each section
reads its own queries and draws its own charts, so the first view of the page builds two
plotly figures, not five. Not a page (Streamlit routes every file of pages/ as one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

import streamlit as st

from sales_core import links as record_links
from sales_core import money
from sales_core.charts import (
    aging_chart,
    community_chart,
    invoiced_paid_chart,
    mrr_chart,
    renewal_chart,
)
from sales_core.config import Settings
from sales_core.formatting import markdown_text, money_table
from sales_core.health import SyncStatus
from sales_core.metrics import revenue, statements
from ui import chrome, links, view_state
from ui.queries import cached

PAGE = "revenue"
EVERY_BUCKET = "Every bucket"
# The columns every invoice table of the page shares (aging, statement, a community's invoices).
INVOICE_COLUMNS: dict[str, Any] = {
    "number": "Invoice",
    "contract": st.column_config.TextColumn("Contract", width="medium"),
    "issue_date": st.column_config.DateColumn("Issued"),
    "due_date": st.column_config.DateColumn("Due"),
}


@dataclass(frozen=True)
class View:
    """What every section reads: the store, its version, the currency shown, the day, and the
    AirTable record links (empty without the schema scope)."""

    settings: Settings
    status: SyncStatus
    currency: str
    today: date
    record: record_links.RecordLinks

    @property
    def shown(self) -> str:
        return markdown_text(self.currency)


def pick_bucket(buckets: list[str], choices: list[str]) -> None:
    """A click on an aging bar picks its bucket in the "Invoices behind" box (a bucket without
    invoices has no bar to click and is no choice)."""
    picked = view_state.selected(st.session_state.get("aging_chart"), buckets)
    if picked in choices:
        st.session_state["aging_bucket"] = picked


def slug(text: str) -> str:
    """A file-name-safe form of a community's name."""
    return "".join(c if c.isalnum() else "-" for c in text).strip("-")[:60] or "community"


def recurring(view: View) -> None:
    """Monthly recurring revenue with what is contracted ahead, then invoiced against paid."""
    settings, status, currency, today = view.settings, view.status, view.currency, view.today
    shown = view.shown
    st.subheader("Monthly recurring revenue")
    mrr = cached(revenue.mrr_by_month, settings, status, currency, today)
    forward = cached(revenue.weighted_pipeline_forward, settings, status, currency, today)
    if mrr["contracts"].sum() == 0 and forward.empty:
        st.info(f"No contract in {shown} covers the 24 months before or the 12 after this one.")
    else:
        st.plotly_chart(mrr_chart(mrr, forward, currency, today), width="stretch")
        st.caption(
            "MRR counts the monthly fee of every Active or Ended contract for the days its "
            "dates cover in the month (a contract starting mid-month counts in part). The "
            "dotted line is what signed contracts already hold ahead; the bars are open deals' "
            "value × probability by expected close month (overdue deals in this month), on "
            "the right-hand axis."
        )

    st.subheader("Invoiced and paid")
    flows = cached(revenue.invoiced_vs_paid, settings, status, currency, today)
    if not ((flows["invoiced"] != 0) | (flows["paid"] != 0)).any():
        st.info(f"No receivable in {shown} was issued or paid in the last 24 months.")
    else:
        st.plotly_chart(invoiced_paid_chart(flows, currency), width="stretch")


def receivables(view: View) -> None:
    """Receivables aging (a bar click lists its invoices), then the statements by community."""
    settings, status, currency, today = view.settings, view.status, view.currency, view.today
    record = view.record
    shown = view.shown
    st.subheader("Receivables aging")
    buckets = cached(revenue.aging, settings, status, currency, today)
    if buckets["invoices"].sum() == 0:
        st.success(f"No receivable in {shown} is outstanding.")
    else:
        choices = [b for b, n in zip(buckets["bucket"], buckets["invoices"], strict=True) if n]
        bucket_params = [
            view_state.choice("aging_bucket", "bucket", "Aging bucket", choices, EVERY_BUCKET)
        ]
        view_state.show_notes(view_state.restore(PAGE, bucket_params))
        picked = st.session_state.get("aging_bucket")
        bucket_names = [str(b) for b in buckets["bucket"]]
        left, right = st.columns([3, 2])
        left.plotly_chart(
            aging_chart(buckets, currency, None if picked == EVERY_BUCKET else picked),
            width="stretch",
            key="aging_chart",
            on_select=partial(pick_bucket, bucket_names, choices),
            selection_mode="points",
        )
        left.caption("Click a bar to list its invoices below.")
        right.dataframe(
            money_table(buckets, ["bucket", "invoices", "amount"], currency=currency),
            hide_index=True,
            width="stretch",
            column_config={
                "bucket": "Days past due",
                "invoices": "Invoices",
                "amount": "Balance due",
            },
        )
        bucket = right.selectbox("Invoices behind", [EVERY_BUCKET, *choices], key="aging_bucket")
        view_state.publish(PAGE, bucket_params)
        behind = cached(
            revenue.aging_invoices,
            settings,
            status,
            currency,
            today,
            None if bucket == EVERY_BUCKET else bucket,
        )
        behind_shown, behind_links = links.linked(behind, record, "invoices", after="number")
        st.dataframe(
            behind_shown,
            placeholder="—",
            hide_index=True,
            width="stretch",
            column_order=[
                "number",
                *behind_links,
                "contract",
                "issue_date",
                "due_date",
                "days_past_due",
                "amount",
                "balance",
                "bucket",
            ],
            column_config={
                **behind_links,
                **INVOICE_COLUMNS,
                "days_past_due": st.column_config.NumberColumn("Days past due"),
                "amount": st.column_config.NumberColumn(f"Amount ({currency})", format="localized"),
                "balance": st.column_config.NumberColumn(
                    f"Balance due ({currency})", format="localized"
                ),
                "bucket": "Bucket",
            },
        )
        total = int(behind["total"].iloc[0]) if len(behind) else 0
        if total > len(behind):
            st.caption(f"The {len(behind):,} most overdue of {total:,} invoices are listed.")
        csv_buckets, csv_behind = st.columns(2)
        chrome.csv_download(
            csv_buckets,
            "Download the aging buckets (CSV)",
            buckets.drop(columns="position"),
            f"aging-{currency}-{today:%Y-%m-%d}.csv",
            key="aging_buckets_csv",
        )
        chrome.csv_download(
            csv_behind,
            f"Download these {len(behind):,} invoices (CSV)",
            behind.drop(columns="total"),
            f"aging-invoices-{currency}-{today:%Y-%m-%d}.csv",
            key="aging_invoices_csv",
        )

    st.subheader("Statements and aging by community")
    by_community = cached(statements.aging_by_community, settings, status, today)
    if by_community.empty:
        st.info("No community owes anything: every Authorized receivable is paid.")
    else:
        st.dataframe(
            by_community,
            hide_index=True,
            width="stretch",
            placeholder="—",
            column_config={
                "community": st.column_config.TextColumn("Community", width="medium"),
                "currency": "Currency",
                "invoices": "Open invoices",
                "balance": st.column_config.NumberColumn("Balance due", format="localized"),
                "oldest_days": st.column_config.NumberColumn("Oldest, days past due"),
                **{
                    bucket: st.column_config.NumberColumn(bucket, format="localized")
                    for bucket in revenue.AGING_BUCKETS
                },
            },
        )
        chrome.csv_download(
            st,
            "Download the aging by community (CSV)",
            by_community,
            f"aging-by-community-{today:%Y-%m-%d}.csv",
            key="aging_csv",
        )
        names = list(dict.fromkeys(by_community["community"]))
        statement_params = [
            view_state.choice("statement_community", "statement", "Statement for", names, names[0])
        ]
        view_state.show_notes(view_state.restore(PAGE, statement_params))
        community = st.selectbox("Statement for", names, key="statement_community")
        view_state.publish(PAGE, statement_params)
        items = cached(statements.open_invoices, settings, status, today, community)
        items_shown, items_links = links.linked(
            items.drop(columns="community"), record, "invoices", after="number"
        )
        st.dataframe(
            items_shown,
            hide_index=True,
            width="stretch",
            placeholder="—",
            column_config={
                **items_links,
                **INVOICE_COLUMNS,
                "days_past_due": st.column_config.NumberColumn("Days past due"),
                "amount": st.column_config.NumberColumn("Amount", format="localized"),
                "amount_paid": st.column_config.NumberColumn("Paid", format="localized"),
                "balance": st.column_config.NumberColumn("Balance due", format="localized"),
                "currency": "Currency",
                "bucket": "Bucket",
            },
        )
        csv_col, pdf_col = st.columns(2)
        chrome.csv_download(
            csv_col,
            "Download the statement (CSV)",
            items,
            f"statement-{slug(community)}-{today:%Y-%m-%d}.csv",
            key="statement_csv",
        )
        chrome.download(
            pdf_col,
            "Download the statement (PDF)",
            partial(statements.statement_pdf, settings, community, today),
            f"statement-{slug(community)}-{today:%Y-%m-%d}.pdf",
            mime="application/pdf",
            key="statement_pdf",
        )


def communities(view: View) -> None:
    """Revenue by community over the last 12 months, with the shares (a bar click lists the
    community's invoices)."""
    settings, status, currency, today = view.settings, view.status, view.currency, view.today
    record = view.record
    shown = view.shown
    st.subheader("Revenue by community, last 12 months")
    top_params = [view_state.whole_number("top_communities", "top", "Communities shown", 3, 30, 10)]
    view_state.show_notes(view_state.restore(PAGE, top_params))
    top = st.slider("Communities shown", min_value=3, max_value=30, key="top_communities")
    view_state.publish(PAGE, top_params)
    communities = cached(revenue.revenue_by_community, settings, status, currency, today, top)
    if communities.empty:
        st.info(f"No receivable in {shown} was issued in the last 12 months.")
    else:
        share = cached(revenue.revenue_share, settings, status, currency, today)
        chrome.tiles(
            st.columns(3),
            [
                chrome.Tile("Invoiced, last 12 months", money.text(share["invoiced"], currency)),
                chrome.Tile(
                    "Fiscal sponsor's share",
                    money.text(share["sponsor_share"], currency),
                    help="Each invoice's amount × its contract's CSS % (none when CSS % is empty).",
                ),
                chrome.Tile(
                    "Organisation's share",
                    money.text(share["org_share"], currency),
                    help="Amount × (1 − CSS %): the share after the fiscal sponsor's.",
                ),
            ],
        )
        named = communities[communities["community"] != revenue.OTHER_COMMUNITIES]
        rest = communities[communities["community"] == revenue.OTHER_COMMUNITIES]
        bar_names = [str(c) for c in named["community"]]
        community_params = [
            view_state.choice("revenue_community", "community", "Community", bar_names, None)
        ]
        view_state.show_notes(view_state.restore(PAGE, community_params))
        picked_community = st.session_state.get("revenue_community")
        # the rest is a caption, not a bar: next to hundreds of communities the top ones vanish
        st.plotly_chart(
            community_chart(named, currency, picked_community),
            width="stretch",
            key="community_chart",
            on_select=view_state.focus_from_chart(
                "community_chart", "revenue_community", bar_names
            ),
            selection_mode="points",
        )
        if len(rest):
            other = rest.iloc[0]
            st.caption(
                f"Every other community together: {money.text(other['invoiced'], currency)} "
                f"invoiced in {other['invoices']:,} invoices, of which "
                f"{money.text(other['org_share'], currency)} is the organisation's share."
            )
        if picked_community is None:
            st.caption("Click a bar to list that community's invoices.")
            st.dataframe(
                money_table(
                    communities,
                    ["community", "invoices", "invoiced", "org_share", "sponsor_share"],
                    ("invoiced", "org_share", "sponsor_share"),
                    currency=currency,
                ),
                hide_index=True,
                width="stretch",
                column_config={
                    "community": st.column_config.TextColumn("Community", width="medium"),
                    "invoices": "Invoices",
                    "invoiced": "Invoiced",
                    "org_share": "Organisation's share",
                    "sponsor_share": "Fiscal sponsor's share",
                },
            )
            chrome.csv_download(
                st,
                "Download the revenue by community (CSV)",
                communities,
                f"revenue-by-community-{currency}-{today:%Y-%m-%d}.csv",
                key="communities_csv",
            )
        else:
            picked_text, clear = st.columns([4, 1], vertical_alignment="center")
            picked_text.info(
                f"Invoices of **{markdown_text(picked_community)}**, last 12 months (picked in "
                "the chart)."
            )
            if clear.button("Show every community", key="community_clear"):
                st.session_state["revenue_community"] = None
                st.rerun()
            invoices = cached(
                revenue.community_invoices, settings, status, currency, today, picked_community
            )
            invoices_shown, invoices_links = links.linked(
                invoices, record, "invoices", after="number"
            )
            st.dataframe(
                invoices_shown,
                hide_index=True,
                width="stretch",
                placeholder="—",
                column_config={
                    **invoices_links,
                    **INVOICE_COLUMNS,
                    "status": "Status",
                    "amount": st.column_config.NumberColumn("Amount", format="localized"),
                    "org_share": st.column_config.NumberColumn(
                        "Organisation's share", format="localized"
                    ),
                    "currency": "Currency",
                },
            )
            chrome.csv_download(
                st,
                f"Download these {len(invoices):,} invoices (CSV)",
                invoices,
                f"invoices-{slug(picked_community)}-{today:%Y-%m-%d}.csv",
                key="community_invoices_csv",
            )
        view_state.publish(PAGE, community_params)


def renewals(view: View) -> None:
    """The renewal radar, in every currency: Active contracts ending soon or already past
    their End Date."""
    settings, status, today, record = view.settings, view.status, view.today, view.record
    st.subheader("Renewal radar")
    radar = cached(revenue.renewal_radar, settings, status, today)
    if radar.empty:
        st.success("No Active contract ends within 180 days, and none is past its End Date.")
    else:
        windows = list(revenue.RENEWAL_BUCKETS)
        renewal_params = [
            view_state.choice("renewal_focus", "renewal", "Renewal window", windows, None)
        ]
        view_state.show_notes(view_state.restore(PAGE, renewal_params))
        window = st.session_state.get("renewal_focus")
        left, right = st.columns([2, 3])
        left.plotly_chart(
            renewal_chart(radar, revenue.RENEWAL_BUCKETS, window),
            width="stretch",
            key="renewal_chart",
            on_select=view_state.focus_from_chart("renewal_chart", "renewal_focus", windows),
            selection_mode="points",
        )
        listed = radar if window is None else radar[radar["bucket"] == window]
        if window is not None:
            right.markdown(f"Ending **{markdown_text(window)}** (picked in the chart).")
            if right.button("Show every window", key="renewal_clear"):
                st.session_state["renewal_focus"] = None
                st.rerun()
        radar_shown, radar_links = links.linked(
            money_table(
                listed,
                ["bucket", "name", "end_date", "days_left", "monthly_fee", "id"],
                ("monthly_fee",),
            ),
            record,
            "contracts",
            after="name",
        )
        right.dataframe(
            radar_shown,
            hide_index=True,
            width="stretch",
            column_config={
                **radar_links,
                "bucket": "When",
                "name": st.column_config.TextColumn("Contract", width="medium"),
                "end_date": st.column_config.DateColumn("End date"),
                "days_left": st.column_config.NumberColumn("Days left"),
                "monthly_fee": "Monthly fee",
            },
        )
        st.caption(
            "Every currency; contracts already past their End Date but still Active first. Click "
            "a bar to list only its contracts."
        )
        chrome.csv_download(
            st,
            "Download the renewal radar (CSV)",
            listed.drop(columns="position"),
            f"renewals-{today:%Y-%m-%d}.csv",
            key="renewals_csv",
        )
        view_state.publish(PAGE, renewal_params)

"""Revenue: MRR by month, invoiced against paid, receivables aging, communities, renewals."""

from functools import partial

import streamlit as st

from sales_core import money
from sales_core.charts import (
    aging_chart,
    community_chart,
    invoiced_paid_chart,
    mrr_chart,
    renewal_chart,
)
from sales_core.export import safe_csv
from sales_core.formatting import markdown_text, money_table
from sales_core.metrics import revenue, statements
from ui import chrome
from ui.queries import cached

settings, status = chrome.page_start()
st.title("Revenue")
if not status.has_data:
    st.info("No data yet. Press **Sync now** in the sidebar to load contracts and invoices.")
    st.stop()
known = cached(revenue.revenue_currencies, settings, status)
if not known:
    st.info("The data holds no contracts or invoices yet.")
    st.stop()

today = chrome.today()
picker, note = st.columns([1, 4], vertical_alignment="bottom")
currency = picker.selectbox("Currency", known, key="revenue_currency")
shown = markdown_text(currency)
note.caption(f"Amounts in {shown}: totals are never added across currencies.")

st.subheader("Monthly recurring revenue")
mrr = cached(revenue.mrr_by_month, settings, status, currency, today)
forward = cached(revenue.weighted_pipeline_forward, settings, status, currency, today)
if mrr["contracts"].sum() == 0 and forward.empty:
    st.info(f"No contract in {shown} covers the 24 months before or the 12 after this one.")
else:
    st.plotly_chart(mrr_chart(mrr, forward, currency, today), width="stretch")
    st.caption(
        "MRR counts the monthly fee of every Active or Ended contract for the days its dates "
        "cover in the month (a contract starting mid-month counts in part). The dotted line is "
        "what signed contracts already hold ahead; the bars are open deals' value × probability "
        "by expected close month (overdue deals in this month), on the right-hand axis."
    )

st.subheader("Invoiced and paid")
flows = cached(revenue.invoiced_vs_paid, settings, status, currency, today)
if not ((flows["invoiced"] != 0) | (flows["paid"] != 0)).any():
    st.info(f"No receivable in {shown} was issued or paid in the last 24 months.")
else:
    st.plotly_chart(invoiced_paid_chart(flows, currency), width="stretch")

st.subheader("Receivables aging")
buckets = cached(revenue.aging, settings, status, currency, today)
if buckets["invoices"].sum() == 0:
    st.success(f"No receivable in {shown} is outstanding.")
else:
    left, right = st.columns([3, 2])
    left.plotly_chart(aging_chart(buckets, currency), width="stretch")
    right.dataframe(
        money_table(buckets, ["bucket", "invoices", "amount"], currency=currency),
        hide_index=True,
        width="stretch",
        column_config={"bucket": "Days past due", "invoices": "Invoices", "amount": "Balance due"},
    )
    choices = [b for b, n in zip(buckets["bucket"], buckets["invoices"], strict=True) if n]
    bucket = right.selectbox("Invoices behind", ["Every bucket", *choices], key="aging_bucket")
    behind = cached(
        revenue.aging_invoices,
        settings,
        status,
        currency,
        today,
        None if bucket == "Every bucket" else bucket,
    )
    st.dataframe(
        behind,
        placeholder="—",
        hide_index=True,
        width="stretch",
        column_order=[
            "number",
            "contract",
            "issue_date",
            "due_date",
            "days_past_due",
            "amount",
            "balance",
            "bucket",
        ],
        column_config={
            "number": "Invoice",
            "contract": st.column_config.TextColumn("Contract", width="medium"),
            "issue_date": st.column_config.DateColumn("Issued"),
            "due_date": st.column_config.DateColumn("Due"),
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
    chrome.download(
        st,
        "Download the aging by community (CSV)",
        safe_csv(by_community),
        f"aging-by-community-{today:%Y-%m-%d}.csv",
        key="aging_csv",
    )
    names = list(dict.fromkeys(by_community["community"]))
    community = st.selectbox("Statement for", names, key="statement_community")
    items = cached(statements.open_invoices, settings, status, today, community)
    st.dataframe(
        items.drop(columns="community"),
        hide_index=True,
        width="stretch",
        placeholder="—",
        column_config={
            "number": "Invoice",
            "contract": st.column_config.TextColumn("Contract", width="medium"),
            "issue_date": st.column_config.DateColumn("Issued"),
            "due_date": st.column_config.DateColumn("Due"),
            "days_past_due": st.column_config.NumberColumn("Days past due"),
            "amount": st.column_config.NumberColumn("Amount", format="localized"),
            "amount_paid": st.column_config.NumberColumn("Paid", format="localized"),
            "balance": st.column_config.NumberColumn("Balance due", format="localized"),
            "currency": "Currency",
            "bucket": "Bucket",
        },
    )
    slug = "".join(c if c.isalnum() else "-" for c in community).strip("-")[:60] or "community"
    csv_col, pdf_col = st.columns(2)
    chrome.download(
        csv_col,
        "Download the statement (CSV)",
        safe_csv(items),
        f"statement-{slug}-{today:%Y-%m-%d}.csv",
        key="statement_csv",
    )

    chrome.download(
        pdf_col,
        "Download the statement (PDF)",
        partial(statements.statement_pdf, settings, community, today),
        f"statement-{slug}-{today:%Y-%m-%d}.pdf",
        mime="application/pdf",
        key="statement_pdf",
    )

st.subheader("Revenue by community, last 12 months")
top = st.slider("Communities shown", min_value=3, max_value=30, value=10, key="top_communities")
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
    # the rest is a caption, not a bar: next to hundreds of communities the top ones vanish
    st.plotly_chart(community_chart(named, currency), width="stretch")
    if len(rest):
        other = rest.iloc[0]
        st.caption(
            f"Every other community together: {money.text(other['invoiced'], currency)} "
            f"invoiced in {other['invoices']:,} invoices, of which "
            f"{money.text(other['org_share'], currency)} is the organisation's share."
        )

st.subheader("Renewal radar")
radar = cached(revenue.renewal_radar, settings, status, today)
if radar.empty:
    st.success("No Active contract ends within 180 days, and none is past its End Date.")
else:
    left, right = st.columns([2, 3])
    left.plotly_chart(renewal_chart(radar, revenue.RENEWAL_BUCKETS), width="stretch")
    right.dataframe(
        money_table(
            radar, ["bucket", "name", "end_date", "days_left", "monthly_fee"], ("monthly_fee",)
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "bucket": "When",
            "name": st.column_config.TextColumn("Contract", width="medium"),
            "end_date": st.column_config.DateColumn("End date"),
            "days_left": st.column_config.NumberColumn("Days left"),
            "monthly_fee": "Monthly fee",
        },
    )
    st.caption("Every currency; contracts already past their End Date but still Active first.")

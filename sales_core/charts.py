"""Plotly figures for the dashboards, drawn from the small frames of `sales_core.metrics`.

Amounts arrive as `Decimal` and stay so: plotly writes a Decimal into the figure's JSON as a
number itself, so no float ever holds an amount here. The labels carry the currency, since no
chart ever mixes two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

# One colour per pipeline stage, in stage order; unknown stages are grey.
STAGE_COLOURS = ("#9ecae1", "#6baed6", "#3182bd", "#08519c", "#31a354", "#de2d26")
UNKNOWN_COLOUR = "#969696"
AGING_COLOURS = ("#74c476", "#fdd0a2", "#fdae6b", "#f16913", "#a63603")
RENEWAL_COLOURS = ("#a50f15", "#ef3b2c", "#fc9272", "#fcbba1")


# Plotly reads a subset of HTML (<a>, <b>, <br>, <span style>…) in every label, legend entry,
# hover text and tick, and %{…} as a placeholder in hover templates. Text from the data is
# escaped once, here, to entities that plotly shows as the characters themselves.
_PLAIN = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "%": "&#37;"})


def plain(text: object) -> str:
    """Text from the data as plotly will show it: exactly as typed, never markup."""
    return str(text).translate(_PLAIN)


def _plain_all(values: Iterable[object]) -> list[str]:
    return [plain(v) for v in values]


def _amounts(values: Iterable[Any]) -> list[Decimal]:
    """Chart values as Decimal; a missing amount (None, or pandas' NaN) draws as zero."""
    return [v if isinstance(v, Decimal) and v.is_finite() else Decimal(0) for v in values]


def money_label(amount: Decimal, currency: str) -> str:
    """`12,000 USD`: whole units, thousands separated (cents do not help a chart label)."""
    return f"{amount:,.0f} {currency}"


def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        # below the plot, so that it never runs into the title
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0, "traceorder": "normal"},
    )
    return fig


def _stage_colour(position: int) -> str:
    return STAGE_COLOURS[position] if position < len(STAGE_COLOURS) else UNKNOWN_COLOUR


def stage_label(stage: str, known: bool) -> str:
    """A stage's name, marked when the schema does not know it."""
    return stage if known else f"{stage} (unknown stage)"


def _picked(keys: Iterable[object], focus: str | None) -> list[int] | None:
    """The index of the picked key among a trace's points, as plotly's `selectedpoints` wants
    it (the other points are dimmed), or None (nothing dimmed) when nothing is picked.

    A point names its row by number (`customdata`), never by its text: a click tells the page
    which row, and no text from the data goes anywhere plotly could read it as markup.
    """
    if focus is None:
        return None
    return [i for i, key in enumerate(keys) if str(key) == focus]


def funnel_chart(
    funnel: pd.DataFrame, currency: str, window: str = "", focus: str | None = None
) -> go.Figure:
    """Opportunities per stage as a funnel; each bar's label gives the count and the value.

    `window` says which closed deals the closed stages count; each segment carries its row
    number (`customdata`) for a click to pick, and a picked stage (`focus`) stands out.
    """
    currency = plain(currency)
    labels = [
        stage_label(plain(s), bool(k))
        for s, k in zip(funnel["stage"], funnel["known"], strict=True)
    ]
    text = [
        f"{n:,} · {money_label(v, currency)}"
        for n, v in zip(funnel["opportunities"], funnel["value"], strict=True)
    ]
    fig = go.Figure(
        go.Funnel(
            y=labels,
            x=[int(n) for n in funnel["opportunities"]],
            text=text,
            textinfo="text",
            marker={"color": [_stage_colour(int(p)) for p in funnel["position"]]},
            hovertemplate="%{y}: %{text}<extra></extra>",
            customdata=list(range(len(funnel))),
            selectedpoints=_picked(funnel["stage"], focus),
        )
    )
    title = f"Opportunities by stage (count · value in {currency})"
    if window:
        title += f"<br><sup>open deals now; closed stages: {plain(window)}</sup>"
    return _layout(fig, title, height=400)


def weighted_by_month_chart(weighted: pd.DataFrame, currency: str) -> go.Figure:
    """Weighted pipeline per expected close month, stacked by stage."""
    currency = plain(currency)
    fig = go.Figure()
    order = weighted.drop_duplicates("stage").sort_values(["position", "stage"])
    for stage, position in zip(order["stage"], order["position"], strict=True):
        rows = weighted[weighted["stage"] == stage]
        fig.add_bar(
            x=list(rows["month"]),
            y=_amounts(rows["weighted"]),
            name=plain(stage),
            marker_color=_stage_colour(int(position)),
            hovertemplate=f"{plain(stage)}<br>%{{x|%b %Y}}: %{{y:,.0f}} {currency}<extra></extra>",
        )
    fig.update_layout(barmode="stack", xaxis={"tickformat": "%b %Y"})
    fig.update_yaxes(title_text=f"value × probability ({currency})", tickformat=",.0f")
    return _layout(fig, f"Weighted pipeline by expected close month ({currency})")


def mrr_chart(mrr: pd.DataFrame, pipeline: pd.DataFrame, currency: str, today: date) -> go.Figure:
    """MRR per month (line) with the weighted pipeline closing per month (bars, right axis)."""
    currency = plain(currency)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    past = mrr[mrr["month"] <= today.replace(day=1)]
    future = mrr[mrr["month"] >= today.replace(day=1)]
    fig.add_scatter(
        x=list(past["month"]),
        y=_amounts(past["mrr"]),
        name="MRR",
        mode="lines+markers",
        line={"color": "#08519c"},
        hovertemplate=f"%{{x|%b %Y}}: %{{y:,.2f}} {currency}<extra>MRR</extra>",
    )
    fig.add_scatter(
        x=list(future["month"]),
        y=_amounts(future["mrr"]),
        name="MRR, contracted ahead",
        mode="lines+markers",
        line={"color": "#08519c", "dash": "dot"},
        hovertemplate=f"%{{x|%b %Y}}: %{{y:,.2f}} {currency}<extra>contracted</extra>",
    )
    if len(pipeline):
        fig.add_bar(
            x=list(pipeline["month"]),
            y=_amounts(pipeline["weighted"]),
            name="Weighted pipeline closing (right axis)",
            marker_color="rgba(49, 163, 84, 0.45)",
            hovertemplate=f"%{{x|%b %Y}}: %{{y:,.0f}} {currency}<extra>pipeline</extra>",
            secondary_y=True,
        )
    fig.update_yaxes(
        title_text=f"MRR ({currency})", tickformat=",.0f", rangemode="tozero", secondary_y=False
    )
    fig.update_yaxes(
        title_text=f"weighted pipeline ({currency})",
        tickformat=",.0f",
        rangemode="tozero",
        tickmode="auto",
        secondary_y=True,
        showgrid=False,
    )
    fig.update_xaxes(tickformat="%b %Y")
    return _layout(fig, f"Monthly recurring revenue ({currency})", height=400)


@dataclass(frozen=True)
class _Series:
    """One bar series of a two-series chart: its values, legend name, colour and hover tag."""

    values: pd.Series
    name: str
    colour: str
    tag: str


def _bars(
    labels: pd.Series, series: tuple[_Series, ...], currency: str, *, across: bool
) -> go.Figure:
    """Bars of several series over the same labels; `across` lays the labels on the y axis."""
    label, value = ("%{y}", "%{x:,.2f}") if across else ("%{x|%b %Y}", "%{y:,.2f}")
    fig = go.Figure()
    for one in series:
        amounts = _amounts(one.values)
        fig.add_bar(
            x=amounts if across else list(labels),
            y=list(labels) if across else amounts,
            name=one.name,
            orientation="h" if across else "v",
            marker_color=one.colour,
            hovertemplate=f"{label}: {value} {currency}<extra>{one.tag}</extra>",
        )
    return fig


def invoiced_paid_chart(flows: pd.DataFrame, currency: str) -> go.Figure:
    """Invoiced against paid, per month, side by side."""
    currency = plain(currency)
    fig = _bars(
        flows["month"],
        (
            _Series(flows["invoiced"], "Invoiced", "#3182bd", "invoiced"),
            _Series(flows["paid"], "Paid", "#31a354", "paid"),
        ),
        currency,
        across=False,
    )
    fig.update_layout(barmode="group", xaxis={"tickformat": "%b %Y"})
    fig.update_yaxes(title_text=currency, tickformat=",.0f")
    return _layout(fig, f"Invoiced and paid per month ({currency})")


def aging_chart(buckets: pd.DataFrame, currency: str, focus: str | None = None) -> go.Figure:
    """Receivables outstanding per days-past-due bucket; a picked bucket (`focus`) stands out."""
    currency = plain(currency)
    text = [
        f"{money_label(a, currency)} · {n:,} inv."
        for a, n in zip(buckets["amount"], buckets["invoices"], strict=True)
    ]
    fig = go.Figure(
        go.Bar(
            x=_plain_all(buckets["bucket"]),
            y=_amounts(buckets["amount"]),
            text=text,
            textposition="outside",
            textangle=0,
            cliponaxis=False,
            marker_color=list(AGING_COLOURS[: len(buckets)]),
            hovertemplate="%{x}: %{text}<extra></extra>",
            customdata=list(range(len(buckets))),
            selectedpoints=_picked(buckets["bucket"], focus),
        )
    )
    fig.update_yaxes(title_text=currency, tickformat=",.0f")
    fig.update_xaxes(title_text="days past due")
    return _layout(fig, f"Receivables aging ({currency})")


def community_chart(
    communities: pd.DataFrame, currency: str, focus: str | None = None
) -> go.Figure:
    """Invoiced per community, split into the organisation's and the fiscal sponsor's share;
    each bar carries its row number (`customdata`), a picked one (`focus`) stands out."""
    currency = plain(currency)
    rows = communities.iloc[::-1]  # largest at the top
    fig = _bars(
        pd.Series(_plain_all(rows["community"])),
        (
            _Series(rows["org_share"], "Organisation's share", "#3182bd", "organisation"),
            _Series(rows["sponsor_share"], "Fiscal sponsor (CSS %)", "#bdd7e7", "fiscal sponsor"),
        ),
        currency,
        across=True,
    )
    fig.update_traces(
        customdata=list(range(len(rows)))[::-1],  # the row of `communities`, top row first
        selectedpoints=_picked(rows["community"], focus),
    )
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text=currency, tickformat=",.0f")
    fig.update_yaxes(automargin=True)
    return _layout(fig, f"Invoiced by community ({currency})", height=120 + 32 * len(rows))


def renewal_chart(
    radar: pd.DataFrame, buckets: tuple[str, ...], focus: str | None = None
) -> go.Figure:
    """How many Active contracts end in each window (or already ended); a picked window
    (`focus`) stands out."""
    counts = radar["bucket"].value_counts()
    fig = go.Figure(
        go.Bar(
            y=_plain_all(buckets),
            x=[int(counts.get(b, 0)) for b in buckets],
            text=[int(counts.get(b, 0)) for b in buckets],
            textposition="auto",
            orientation="h",
            marker_color=list(RENEWAL_COLOURS[: len(buckets)]),
            hovertemplate="%{y}: %{x} contracts<extra></extra>",
            customdata=list(range(len(buckets))),
            selectedpoints=_picked(buckets, focus),
        )
    )
    few = max(counts, default=0) <= 10  # whole-number ticks for small counts
    fig.update_xaxes(title_text="Active contracts", rangemode="tozero", dtick=1 if few else None)
    fig.update_yaxes(autorange="reversed", automargin=True)
    return _layout(fig, "Active contracts by end date", height=320)

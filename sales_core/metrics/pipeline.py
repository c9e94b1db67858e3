"""The pipeline: funnel, weighted pipeline by close month, win rate, stale deals, the table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd

from sales_core.config import Settings
from sales_core.metrics.common import (
    IS_OPEN,
    PROBABILITY,
    UNKNOWN_STAGE_POSITION,
    WEIGHTED,
    frame,
    money_column,
    stage_values,
)
from sales_core.vocabulary import Stage

UNASSIGNED = "Unassigned"
NO_CATEGORY = "No category"
QUALIFY_URL = "/qualify?opportunity="
NOT_ASSESSED = "Not assessed"
# The opportunity table's CSV: column -> header.
CSV_COLUMNS = {
    "id": "Record id",
    "name": "Opportunity",
    "organization": "Organization",
    "stage": "Stage",
    "value": "Value",
    "currency": "Currency",
    "probability": "Probability",
    "weighted": "Weighted value",
    "expected_close": "Expected close",
    "owner": "Owner",
    "category": "Category",
    "last_activity": "Last activity",
    "score": "MANIAC-T score",
    "recommendation": "Recommendation",
    "assessed_on": "Assessed on",
    "past_close": "Past expected close",
}


@dataclass(frozen=True)
class OpportunityFilter:
    """The pipeline page's filters; an empty tuple or None means "no restriction"."""

    currency: str
    owners: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    close_from: date | None = None
    close_to: date | None = None
    # open deals whose expected close date is before this day (the flagged ones) only
    past_close_on: date | None = None

    def where(self, *, people_only: bool = False) -> tuple[str, dict[str, Any]]:
        """SQL conditions on `o` (opportunities) and their bound parameters.

        `people_only` keeps owner and category and drops currency, stage and dates (the win
        rate counts deals of every currency and needs the closed stages).
        """
        clauses: list[str] = []
        params: dict[str, Any] = {}
        if not people_only:
            clauses.append("coalesce(o.currency, 'USD') = $currency")
            params["currency"] = self.currency
        if self.owners:
            clauses.append(f"list_contains($owners, coalesce(o.owner_name, '{UNASSIGNED}'))")
            params["owners"] = list(self.owners)
        if self.categories:
            clauses.append(f"list_contains($categories, coalesce(o.category, '{NO_CATEGORY}'))")
            params["categories"] = list(self.categories)
        if not people_only:
            if self.stages:
                clauses.append("list_contains($stages, o.stage)")
                params["stages"] = list(self.stages)
            if self.close_from is not None:
                clauses.append("o.expected_close >= $close_from")
                params["close_from"] = self.close_from
            if self.close_to is not None:
                clauses.append("o.expected_close <= $close_to")
                params["close_to"] = self.close_to
            if self.past_close_on is not None:
                clauses.append(f"{IS_OPEN} AND o.expected_close < $past_close_on")
                params["past_close_on"] = self.past_close_on
        return " AND ".join(clauses) or "TRUE", params


@dataclass(frozen=True)
class FilterOptions:
    """What the filters can choose from."""

    owners: list[str]
    categories: list[str]
    stages: list[str]
    first_close: date | None
    last_close: date | None


def filter_options(settings: Settings) -> FilterOptions:
    """Owners, categories, stages (in pipeline order, unknown ones last) and the close dates."""
    stages, params = stage_values(settings)
    df = frame(
        settings,
        f"""
        WITH {stages}
        SELECT 'owner' AS kind, coalesce(owner_name, '{UNASSIGNED}') AS label, 0 AS position
        FROM opportunities GROUP BY ALL
        UNION ALL
        SELECT 'category', coalesce(category, '{NO_CATEGORY}'), 0 FROM opportunities GROUP BY ALL
        UNION ALL
        SELECT 'stage', o.stage, coalesce(s.position, {UNKNOWN_STAGE_POSITION})
        FROM opportunities AS o LEFT JOIN stages AS s ON s.stage = o.stage
        WHERE o.stage IS NOT NULL GROUP BY ALL
        UNION ALL
        SELECT 'first', CAST(min(expected_close) AS VARCHAR), 0 FROM opportunities
        UNION ALL
        SELECT 'last', CAST(max(expected_close) AS VARCHAR), 0 FROM opportunities
        ORDER BY kind, position, label
        """,
        params,
    )

    def labels(kind: str) -> list[str]:
        return [str(v) for v in df.loc[df["kind"] == kind, "label"] if v is not None]

    def day(kind: str) -> date | None:
        found = labels(kind)
        return date.fromisoformat(found[0]) if found else None

    return FilterOptions(
        owners=labels("owner"),
        categories=labels("category"),
        stages=labels("stage"),
        first_close=day("first"),
        last_close=day("last"),
    )


@dataclass(frozen=True)
class ClosingWindow:
    """The one window in which the funnel counts closed deals and the win rate is worked out:
    the 12 months up to today, from the stage history once it reaches back that far, else
    from the closed deals' Expected Close Date."""

    since: date
    today: date
    basis: Literal["history", "record dates"]
    history_since: date | None

    @property
    def words(self) -> str:
        """The window in words, for the charts and the tiles."""
        return f"closed {self.since + timedelta(days=1):%Y-%m-%d} to {self.today:%Y-%m-%d}"


WINDOW_DAYS = 365


def closing_window(settings: Settings, today: date) -> ClosingWindow:
    """The trailing 12 months up to `today`, and how a deal's closing is dated within them."""
    since = today - timedelta(days=WINDOW_DAYS)
    first = frame(settings, "SELECT min(observed_at) AS first FROM opportunity_history", {})
    first_seen = first["first"].iloc[0]
    history_since = None if pd.isna(first_seen) else pd.Timestamp(first_seen).date()
    basis: Literal["history", "record dates"] = (
        "history" if history_since is not None and history_since <= since else "record dates"
    )
    return ClosingWindow(since, today, basis, history_since)


def _closings(window: ClosingWindow) -> tuple[str, dict[str, Any]]:
    """CTEs ending in `closings(opportunity_id, stage, closed_on)`: the deals that closed in
    the window, and when."""
    params: dict[str, Any] = {"since": window.since, "today": window.today}
    if window.basis == "record dates":
        return (
            """closings AS (
                SELECT id AS opportunity_id, stage, expected_close AS closed_on
                FROM opportunities
                WHERE stage IN ($won, $lost) AND expected_close > $since
                  AND expected_close <= $today
            )""",
            params,
        )
    # A deal closes when a sync first sees it move into Closed—won or Closed—lost (a deal the
    # first sync found closed already closed before the history began).
    return (
        """moves AS (
            SELECT opportunity_id, observed_at, stage, change, sync_run_id,
                   lag(stage) OVER (PARTITION BY opportunity_id
                                    ORDER BY observed_at, sync_run_id) AS previous_stage
            FROM opportunity_history
        ),
        first_run AS (SELECT min(sync_run_id) AS id FROM opportunity_history),
        closings AS (
            SELECT opportunity_id, arg_min(stage, observed_at) AS stage,
                   CAST(min(observed_at) AS DATE) AS closed_on
            FROM moves
            WHERE stage IN ($won, $lost)
              AND (previous_stage IS NULL OR previous_stage NOT IN ($won, $lost))
              AND (change = 'changed'
                   OR (change = 'created' AND sync_run_id > (SELECT id FROM first_run)))
              AND CAST(observed_at AS DATE) > $since AND CAST(observed_at AS DATE) <= $today
            GROUP BY opportunity_id
        )""",
        params,
    )


def funnel(settings: Settings, flt: OpportunityFilter, window: ClosingWindow) -> pd.DataFrame:
    """Per stage, in pipeline order (known stages always, unknown ones after): count, value.

    Open stages count every open deal; the closed stages only the deals that closed in
    `window`, the win rate's window. Columns: stage, position, known, opportunities,
    without_value, value, weighted.
    """
    stages, params = stage_values(settings)
    closings, window_params = _closings(window)
    where, filter_params = flt.where()
    df = frame(
        settings,
        f"""
        WITH {stages},
        {closings},
        per_stage AS (
            SELECT coalesce(o.stage, '(no stage)') AS stage, count(*) AS opportunities,
                   count(*) - count(o.value) AS without_value, sum(o.value) AS value,
                   sum({WEIGHTED}) AS weighted
            FROM opportunities AS o LEFT JOIN stages AS s ON s.stage = o.stage
            WHERE {where}
              AND ({IS_OPEN} OR o.id IN (SELECT opportunity_id FROM closings))
            GROUP BY ALL
        )
        SELECT coalesce(s.stage, p.stage) AS stage,
               coalesce(s.position, {UNKNOWN_STAGE_POSITION}) AS position,
               s.stage IS NOT NULL AS known,
               coalesce(p.opportunities, 0) AS opportunities,
               coalesce(p.without_value, 0) AS without_value, p.value, p.weighted
        FROM stages AS s FULL OUTER JOIN per_stage AS p ON p.stage = s.stage
        ORDER BY position, stage
        """,
        params | window_params | filter_params,
    )
    return money_column(df, "value", "weighted")


def weighted_by_close_month(settings: Settings, flt: OpportunityFilter) -> pd.DataFrame:
    """Open opportunities' value × probability per expected close month and stage.

    Columns: month (first day), stage, position, opportunities, weighted. Deals without an
    expected close date or without a value are left out.
    """
    stages, params = stage_values(settings)
    where, filter_params = flt.where()
    df = frame(
        settings,
        f"""
        WITH {stages}
        SELECT CAST(date_trunc('month', o.expected_close) AS DATE) AS month,
               o.stage, coalesce(s.position, {UNKNOWN_STAGE_POSITION}) AS position,
               count(*) AS opportunities, sum({WEIGHTED}) AS weighted
        FROM opportunities AS o LEFT JOIN stages AS s ON s.stage = o.stage
        WHERE {IS_OPEN} AND {where} AND o.expected_close IS NOT NULL AND o.value IS NOT NULL
        GROUP BY ALL
        ORDER BY month, position, o.stage
        """,
        params | filter_params,
    )
    return money_column(df, "weighted")


@dataclass(frozen=True)
class WinRate:
    """Deals closed in the window, the share won and the average days to close."""

    won: int
    lost: int
    average_cycle_days: float | None
    window: ClosingWindow

    @property
    def win_rate(self) -> float | None:
        """won ÷ (won + lost), or None when nothing closed."""
        closed = self.won + self.lost
        return self.won / closed if closed else None


def win_rate(settings: Settings, flt: OpportunityFilter, window: ClosingWindow) -> WinRate:
    """Win rate and sales-cycle length of the deals that closed in `window` (the funnel's).

    From the stage history the sync keeps once it reaches back 12 months: a deal closes when
    a sync first sees it move into Closed—won or Closed—lost, and its cycle runs from its
    creation in AirTable to that sync. Until the history reaches that far, the record dates
    stand in: the Expected Close Date of closed deals and their creation date.
    """
    closings, params = _closings(window)
    where, filter_params = flt.where(people_only=True)
    df = frame(
        settings,
        f"""
        WITH {closings}
        SELECT c.stage, count(*) AS deals,
               sum(datediff('day', CAST(o.created_time AS DATE), c.closed_on)) AS cycle_days,
               count(o.created_time) AS timed
        FROM closings AS c JOIN opportunities AS o ON o.id = c.opportunity_id
        WHERE {where}
        GROUP BY c.stage
        """,
        params | filter_params,
    )
    counts = {str(r.stage): int(r.deals) for r in df.itertuples()}
    timed = int(df["timed"].sum())
    cycle = float(df["cycle_days"].fillna(0).sum()) / timed if timed else None
    return WinRate(
        won=counts.get(Stage.WON, 0),
        lost=counts.get(Stage.LOST, 0),
        average_cycle_days=cycle,
        window=window,
    )


def stale_deals(
    settings: Settings, flt: OpportunityFilter, today: date, days: int, limit: int = 200
) -> pd.DataFrame:
    """Open deals with no activity for more than `days` days, the longest quiet first.

    The last activity is the Last Activity date, or the creation date when that is empty.
    Columns: id, name, organization, stage, owner, value, last_activity, days_quiet, total (the
    number of stale deals, of which at most `limit` rows are returned).
    """
    where, params = flt.where()
    params |= {"today": today, "days": days, "limit": limit}
    df = frame(
        settings,
        f"""
        SELECT *, count(*) OVER () AS total FROM (
            SELECT o.id, o.name, o.organization, o.stage, o.owner_name AS owner, o.value,
                   coalesce(o.last_activity, CAST(o.created_time AS DATE)) AS last_activity,
                   datediff('day', coalesce(o.last_activity, CAST(o.created_time AS DATE)),
                            $today) AS days_quiet
            FROM opportunities AS o
            WHERE {IS_OPEN} AND {where}
        )
        WHERE days_quiet > $days
        ORDER BY days_quiet DESC, name
        LIMIT $limit
        """,
        params,
    )
    return df


def opportunity_table(
    settings: Settings, flt: OpportunityFilter, today: date, limit: int | None = None
) -> pd.DataFrame:
    """The filtered opportunities with their latest MANIAC-T score and recommendation.

    Open deals first, by expected close date. Columns: id, name, organization, stage, value,
    currency, probability, weighted, expected_close, owner, category, last_activity, score,
    recommendation ("Not assessed" without an assessment), assessed_on, past_close (open and its
    expected close date before `today`), qualify (a link to the qualification page), total
    (the number of matching opportunities, of which at most `limit` rows are returned; None:
    all).
    """
    stages, params = stage_values(settings)
    where, filter_params = flt.where()
    params |= filter_params | {
        "qualify": QUALIFY_URL,
        "not_assessed": NOT_ASSESSED,
        "today": today,
    }
    limit_sql = ""
    if limit is not None:
        limit_sql = "LIMIT $limit"
        params["limit"] = limit
    df = frame(
        settings,
        f"""
        WITH {stages}
        SELECT o.id, o.name, o.organization, o.stage, o.value,
               coalesce(o.currency, 'USD') AS currency, {PROBABILITY} AS probability,
               round({WEIGHTED}, 2) AS weighted, o.expected_close,
               o.owner_name AS owner, o.category, o.last_activity,
               a.score, coalesce(a.recommendation, $not_assessed) AS recommendation,
               a.assessed_on,
               coalesce({IS_OPEN} AND o.expected_close < $today, FALSE) AS past_close,
               $qualify || o.id AS qualify,
               count(*) OVER () AS total
        FROM opportunities AS o
        LEFT JOIN stages AS s ON s.stage = o.stage
        LEFT JOIN latest_assessment AS a ON a.opportunity_id = o.id
        WHERE {where}
        ORDER BY {IS_OPEN} DESC, o.expected_close NULLS LAST, o.name, o.id
        {limit_sql}
        """,
        params,
    )
    return df

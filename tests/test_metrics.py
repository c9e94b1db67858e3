"""The dashboards' figures against values worked out by hand on tests/dashboard_data.py.

Today is 2026-11-25. Each expected value is written out with its arithmetic.
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from sales_core import store
from sales_core.config import Settings
from sales_core.export import safe_csv
from sales_core.metrics import overview, pipeline, revenue
from sales_core.metrics.common import currencies
from sales_core.sync import run_sync
from tests.dashboard_data import INJECTION_NAME, TODAY, write_base

D = Decimal


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The hand-made base, loaded once through the real sync (the tests only read it)."""
    root = tmp_path_factory.mktemp("dashboards")
    settings = Settings(db_path=root / "sales.duckdb", demo_dir=write_base(root / "base"))
    run_sync(settings, "demo")
    return settings


def usd(**extra: object) -> pipeline.OpportunityFilter:
    return pipeline.OpportunityFilter(currency="USD", **extra)  # type: ignore[arg-type]


def window(settings: Settings, today: date = TODAY) -> pipeline.ClosingWindow:
    return pipeline.closing_window(settings, today)


# --- overview tiles ------------------------------------------------------------------------


def test_overview_tiles__per_currency_never_mixed(base: Settings) -> None:
    tiles = overview.overview_tiles(base, TODAY).set_index("currency")
    assert list(tiles.index) == ["EUR", "GBP", "JPY", "USD"]
    usd_row, eur = tiles.loc["USD"], tiles.loc["EUR"]
    # open USD: Alpha 10000 + Beta 20000 + Eta ("On hold", unknown, still open) 3000;
    # Gamma has no value.
    assert usd_row["open_pipeline"] == D("33000.00")
    # weighted: 10000 × 0.10 (Lead default) + 20000 × 3/5 + Eta (no rating, no default) 0
    assert usd_row["weighted_pipeline"] == D("13000.00")
    # Delta: 8000 EUR × 0.80 (Contract Admin default), never added to the USD figures
    assert (eur["open_pipeline"], eur["weighted_pipeline"]) == (D("8000.00"), D("6400.00"))
    assert tiles["past_close"].sum() == 0  # no open deal was due to close before 25 Nov


def test_overview_tiles__open_deals_past_their_expected_close(base: Settings) -> None:
    # on 20 December: Alpha (USD, due 15 Dec) and Delta (EUR, due 1 Dec); closed deals never
    tiles = overview.overview_tiles(base, date(2026, 12, 20)).set_index("currency")
    assert tiles["past_close"].to_dict() == {"EUR": 1, "GBP": 0, "JPY": 0, "USD": 1}


def test_overview_tiles__mrr_in_force_and_change(base: Settings) -> None:
    tiles = overview.overview_tiles(base, TODAY).set_index("currency")
    usd_row = tiles.loc["USD"]
    # in force on 25 Nov: Pangeo 1000 (from 16 Nov) + CryoCloud 2000 + Carpentries 700;
    # Openscapes ended 31 Oct (still Active) and the Draft do not count
    assert usd_row["mrr"] == D("3700.00")
    assert usd_row["arr"] == D("44400.00")
    # on 25 Oct: CryoCloud 2000 + Openscapes 500 + Carpentries 700 = 3200 -> +500
    assert usd_row["mrr_last_month"] == D("3200.00")
    assert usd_row["mrr_change"] == D("500.00")
    # a currency with a single contract
    assert tiles.loc["JPY", "mrr"] == D("99999.00")


def test_overview_tiles__invoicing_and_receivables(base: Settings) -> None:
    tiles = overview.overview_tiles(base, TODAY).set_index("currency")
    usd_row = tiles.loc["USD"]
    # November: INV-1 100 (the Void 5000 and the ACCPAY 9999 do not count); October: 1000 paid
    assert usd_row["invoiced_this_month"] == D("100.00")
    assert usd_row["invoiced_last_month"] == D("1000.00")
    assert usd_row["invoiced_change"] == D("-900.00")
    # Authorized receivables: 100 + 200 + 300 + 400 + 500 + 600 + 700
    assert usd_row["receivables"] == D("2800.00")
    # more than 60 days past due: 500 (61 days) + 600 (90) + 700 (91); 400 is exactly 60
    assert usd_row["receivables_over_60"] == D("1800.00")
    assert tiles.loc["EUR", "receivables"] == D("1500.00")


def test_currencies__every_currency_most_used_first(base: Settings) -> None:
    assert currencies(base)[0] == "USD"
    assert set(currencies(base)) == {"USD", "EUR", "GBP", "JPY"}


def test_currencies__the_invoice_tables_give_the_receivables_currencies(
    base: Settings, tmp_path: Path
) -> None:
    # A credit note made here in a currency nothing else uses still reaches the pickers
    # (on a copy: the other tests read `base` as it is).
    copy = replace(base, db_path=tmp_path / "copy.duckdb")
    shutil.copy(base.db_path, copy.db_path)
    with store.connect(copy.db_path) as con:
        con.execute(
            "INSERT INTO credit_notes (invoice_key, number, credited_number, currency, amount, "
            "reason, issue_date, created_by, created_at, updated_at, push_state) VALUES "
            "('k', 'CN-2026-0001', 'INV-2026-0001', 'CHF', 1, 'r', DATE '2026-11-01', 't', "
            "now(), now(), 'pending')"
        )
        viewed = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT coalesce(currency, 'USD') FROM contracts UNION "
                "SELECT DISTINCT coalesce(currency, 'USD') FROM receivables"
            ).fetchall()
        }
    assert "CHF" in viewed
    assert set(revenue.revenue_currencies(copy)) == viewed


# --- pipeline ------------------------------------------------------------------------------


def test_funnel__known_stages_in_order_unknown_last(base: Settings) -> None:
    stages = pipeline.funnel(base, usd(), window(base))
    assert list(stages["stage"]) == [
        "Lead",
        "Qualified",
        "Proposal",
        "Contract Admin",
        "Closed—won",
        "Closed—lost",
        "On hold",
    ]
    rows = stages.set_index("stage")
    assert rows.loc["Qualified", "opportunities"] == 1
    assert rows.loc["Qualified", "without_value"] == 1  # Gamma: counted, not summed
    assert rows.loc["Qualified", "value"] == D("0.00")
    assert rows.loc["Contract Admin", "opportunities"] == 0  # Delta is in EUR
    # closed deals of the win rate's 12 months only: Epsilon 5000; Theta (June 2025) is not
    assert rows.loc["Closed—won", "value"] == D("5000.00")
    assert rows.loc["Closed—lost", "opportunities"] == 1  # Zeta
    assert not rows.loc["On hold", "known"]


def test_funnel__and_win_rate_count_the_same_closed_deals(base: Settings) -> None:
    # a year later Epsilon and Zeta fall out of the window, and the funnel says the same
    later = window(base, date(2027, 9, 1))
    assert later.words == "closed 2026-09-02 to 2027-09-01"
    rows = pipeline.funnel(base, usd(), later).set_index("stage")["opportunities"]
    wins = pipeline.win_rate(base, usd(), later)
    assert (rows["Closed—won"], rows["Closed—lost"]) == (wins.won, wins.lost) == (0, 0)
    now = pipeline.funnel(base, usd(), window(base)).set_index("stage")["opportunities"]
    wins = pipeline.win_rate(base, usd(), window(base))
    assert (now["Closed—won"], now["Closed—lost"]) == (wins.won, wins.lost) == (1, 1)


def test_funnel__filters_by_owner_and_category(base: Settings) -> None:
    stages = pipeline.funnel(base, usd(owners=("Jonas Weber",)), window(base))
    assert stages.set_index("stage")["opportunities"].to_dict() == {
        "Lead": 0,
        "Qualified": 0,
        "Proposal": 1,
        "Contract Admin": 0,
        "Closed—won": 0,
        "Closed—lost": 1,
    }
    giving = pipeline.funnel(base, usd(categories=("Giving",)), window(base))
    assert int(giving["opportunities"].sum()) == 1  # Gamma; Theta closed before the window


def test_weighted_by_close_month__open_deals_by_month_and_stage(base: Settings) -> None:
    months = pipeline.weighted_by_close_month(base, usd())
    rows = list(zip(months["month"], months["stage"], months["weighted"], strict=True))
    assert rows == [
        (date(2026, 12, 1), "Lead", D("1000.00")),
        (date(2027, 1, 1), "Proposal", D("12000.00")),
        (date(2027, 3, 1), "On hold", D("0.00")),
    ]


def test_win_rate__falls_back_to_record_dates_without_12_months_of_history(
    base: Settings,
) -> None:
    wins = pipeline.win_rate(base, usd(), window(base))
    assert wins.window.basis == "record dates"
    # Epsilon won (3 Mar -> 1 Jun: 90 days), Zeta lost (23 May -> 1 Aug: 70 days); Theta
    # closed in June 2025, before the 12 months
    assert (wins.won, wins.lost) == (1, 1)
    assert wins.win_rate == 0.5
    assert wins.average_cycle_days == 80.0


def test_win_rate__from_the_stage_history_once_it_covers_12_months(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "h.duckdb", demo_dir=write_base(tmp_path / "base"))
    run_sync(settings, "demo")
    first = datetime(2025, 6, 1, 12)
    with store.connect(settings.db_path) as con, store.transaction(con):
        # the history starts earlier; Beta closed as won on 2026-09-10 (created 2026-06-01:
        # 101 days), Alpha lost on 2026-10-01 (created 2026-10-01: 0 days) and Delta won
        # before the window
        con.execute("UPDATE opportunity_history SET observed_at = ?", [first])
        rows = [
            ("recOppBeta", datetime(2026, 9, 10, 9), 90, "Closed—won"),
            ("recOppAlpha", datetime(2026, 10, 1, 9), 91, "Closed—lost"),
            ("recOppDelta", datetime(2025, 9, 1, 9), 92, "Closed—won"),
        ]
        for opportunity, seen, run, stage in rows:
            con.execute(
                "INSERT INTO opportunity_history VALUES (?, ?, ?, 'changed', 'x', ?, 1, 'USD', 5)",
                [opportunity, seen, run, stage],
            )
            con.execute("UPDATE opportunities SET stage = ? WHERE id = ?", [stage, opportunity])
    wins = pipeline.win_rate(settings, usd(), window(settings))
    assert wins.window.basis == "history"
    assert wins.window.history_since == date(2025, 6, 1)
    assert (wins.won, wins.lost) == (1, 1)
    assert wins.average_cycle_days == pytest.approx((101 + 0) / 2)
    assert pipeline.win_rate(settings, usd(owners=("Jonas Weber",)), window(settings)).won == 1
    # the funnel counts the same closings: Beta won, Alpha lost, in USD
    stages = pipeline.funnel(settings, usd(), window(settings)).set_index("stage")
    assert (
        stages.loc["Closed—won", "opportunities"],
        stages.loc["Closed—lost", "opportunities"],
    ) == (1, 1)


def test_stale_deals__quiet_longer_than_n_days(base: Settings) -> None:
    stale = pipeline.stale_deals(base, usd(), TODAY, days=30)
    assert list(stale["name"]) == ["Beta hub"]  # 85 days; Alpha 5, Gamma 24, Eta 15
    assert stale["days_quiet"].iloc[0] == 85
    assert list(pipeline.stale_deals(base, usd(), TODAY, days=20)["name"]) == [
        "Beta hub",
        "Gamma gift",
    ]
    assert pipeline.stale_deals(base, usd(), TODAY, days=85).empty  # more than N, not N


def test_opportunity_table__latest_assessment_and_qualify_link(base: Settings) -> None:
    table = pipeline.opportunity_table(base, usd(), TODAY).set_index("id")
    assert int(table["total"].iloc[0]) == 7  # the USD deals
    alpha = table.loc["recOppAlpha"]
    assert (alpha["score"], alpha["recommendation"]) == (11, "Pursue")
    assert alpha["qualify"] == "/qualify?opportunity=recOppAlpha"
    assert alpha["probability"] == D("0.10") and alpha["weighted"] == D("1000.00")
    assert table.loc["recOppBeta", "recommendation"] == "Not assessed"
    assert pd.isna(table.loc["recOppBeta", "score"])
    # open deals first, by expected close date
    assert list(table.index[:4]) == ["recOppAlpha", "recOppBeta", "recOppGamma", "recOppEta"]


def test_opportunity_table__filters_and_limit(base: Settings) -> None:
    flt = usd(stages=("Lead", "Proposal"), close_from=date(2027, 1, 1))
    assert list(pipeline.opportunity_table(base, flt, TODAY)["name"]) == ["Beta hub"]
    limited = pipeline.opportunity_table(base, usd(), TODAY, limit=2)
    assert len(limited) == 2 and int(limited["total"].iloc[0]) == 7


def test_opportunity_table__flags_open_deals_past_their_expected_close(base: Settings) -> None:
    # on 20 December Alpha (15 Dec) is overdue; the closed deals and Beta (Jan) are not
    later = date(2026, 12, 20)
    table = pipeline.opportunity_table(base, usd(), later).set_index("id")["past_close"]
    assert [i for i, flagged in table.items() if flagged] == ["recOppAlpha"]
    assert not pipeline.opportunity_table(base, usd(), TODAY)["past_close"].any()
    only = pipeline.opportunity_table(base, usd(past_close_on=later), later)
    assert list(only["name"]) == ["Alpha hub"]
    eur = pipeline.OpportunityFilter(currency="EUR", past_close_on=later)
    assert list(pipeline.opportunity_table(base, eur, later)["name"]) == ["Delta EUR"]


def test_filter_options(base: Settings) -> None:
    options = pipeline.filter_options(base)
    assert options.owners == ["Amara Okafor", "Jonas Weber"]
    assert options.stages[-1] == "On hold"
    assert (options.first_close, options.last_close) == (date(2025, 6, 1), date(2027, 3, 1))


# --- revenue -------------------------------------------------------------------------------


def test_mrr_by_month__prorates_a_contract_starting_mid_month(base: Settings) -> None:
    mrr = revenue.mrr_by_month(base, "USD", TODAY).set_index("month")["mrr"]
    assert len(mrr) == 37  # 24 back, this month, 12 ahead
    # November: Pangeo 1000 × 15/30 (from the 16th) + CryoCloud 2000 + Carpentries 700
    assert mrr[date(2026, 11, 1)] == D("3200.00")
    # December: Pangeo 1000 + CryoCloud 2000 × 20/31 (ends the 20th) + Carpentries 700
    assert mrr[date(2026, 12, 1)] == D("2990.32")
    # February 2027: Pangeo 1000 + Carpentries 700 × 15/28
    assert mrr[date(2027, 2, 1)] == D("1375.00")
    # March 2025: CryoCloud 2000 + Openscapes 500 + Ended hub 800 (Ended contracts count for
    # the days they covered)
    assert mrr[date(2025, 3, 1)] == D("3300.00")


def test_mrr_by_month__single_contract_currency(base: Settings) -> None:
    mrr = revenue.mrr_by_month(base, "JPY", TODAY).set_index("month")["mrr"]
    assert mrr[date(2026, 4, 1)] == D("66666.00")  # 99999 × 20/30, from the 11th
    assert mrr[date(2026, 5, 1)] == D("99999.00")
    assert mrr[date(2026, 3, 1)] == D("0.00")


def test_weighted_pipeline_forward__overdue_deals_count_this_month(base: Settings) -> None:
    forward = revenue.weighted_pipeline_forward(base, "EUR", TODAY)
    rows = list(zip(forward["month"], forward["weighted"], strict=True))
    assert rows == [(date(2026, 12, 1), D("6400.00"))]


def test_invoiced_vs_paid__by_issue_and_paid_month(base: Settings) -> None:
    flows = revenue.invoiced_vs_paid(base, "USD", TODAY).set_index("month")
    assert len(flows) == 24
    assert flows.loc[date(2026, 7, 1), "invoiced"] == D("1300.00")  # 600 + 700
    assert flows.loc[date(2026, 10, 1), "invoiced"] == D("1000.00")
    assert flows.loc[date(2026, 10, 1), "paid"] == D("1000.00")
    assert flows.loc[date(2026, 11, 1), "invoiced"] == D("100.00")  # not the Void, not ACCPAY


def test_aging__buckets_on_their_boundaries(base: Settings) -> None:
    buckets = revenue.aging(base, "USD", TODAY).set_index("bucket")
    assert list(buckets.index) == list(revenue.AGING_BUCKETS)
    # 0 days -> current; 30 -> 1–30; 31 and 60 -> 31–60; 61 and 90 -> 61–90; 91 -> over 90
    assert buckets["amount"].to_dict() == {
        "Current": D("100.00"),
        "1–30 days": D("200.00"),
        "31–60 days": D("700.00"),
        "61–90 days": D("1100.00"),
        "Over 90 days": D("700.00"),
    }
    assert list(buckets["invoices"]) == [1, 1, 2, 2, 1]
    eur = revenue.aging(base, "EUR", TODAY).set_index("bucket")
    assert eur.loc["Current", "amount"] == D("1500.00")
    assert eur.loc["Over 90 days", "amount"] == D("0.00")


def test_aging_invoices__the_list_behind_a_bucket(base: Settings) -> None:
    behind = revenue.aging_invoices(base, "USD", TODAY, "61–90 days")
    assert list(behind["number"]) == ["INV-2026-0006", "INV-2026-0005"]  # 90, then 61 days
    assert list(behind["days_past_due"]) == [90, 61]
    assert list(behind["community"]) == ["Carpentries", "Carpentries"]
    assert len(revenue.aging_invoices(base, "USD", TODAY)) == 7


def test_revenue_by_community__top_n_and_css_share(base: Settings) -> None:
    rows = revenue.revenue_by_community(base, "USD", TODAY, top=1).set_index("community")
    # Carpentries: 400 + 500 + 600 + 700 = 2200, CSS 15 %: sponsor 330, organisation 1870
    assert rows.loc["Carpentries"].to_dict() == {
        "invoices": 4,
        "invoiced": D("2200.00"),
        "sponsor_share": D("330.00"),
        "org_share": D("1870.00"),
    }
    # the rest: CryoCloud 100 + 200 + 300 + 1000 = 1600 at 10 %
    assert rows.loc["Other communities", "org_share"] == D("1440.00")
    assert list(rows.index) == ["Carpentries", "Other communities"]
    share = revenue.revenue_share(base, "USD", TODAY)
    assert share == {
        "invoiced": D("3800.00"),
        "sponsor_share": D("490.00"),
        "org_share": D("3310.00"),
    }


def test_community_invoices__the_invoices_behind_one_bar(base: Settings) -> None:
    bars = revenue.revenue_by_community(base, "USD", TODAY).set_index("community")
    for community in ("Carpentries", "CryoCloud"):
        behind = revenue.community_invoices(base, "USD", TODAY, community)
        assert len(behind) == bars.loc[community, "invoices"]
        assert sum(behind["amount"]) == bars.loc[community, "invoiced"]
    carpentries = revenue.community_invoices(base, "USD", TODAY, "Carpentries")
    assert sum(carpentries["org_share"]) == D("1870.00")  # 2200 less 15 %
    assert list(carpentries["issue_date"]) == sorted(carpentries["issue_date"], reverse=True)
    assert revenue.community_invoices(base, "EUR", TODAY, "Carpentries").empty


def test_renewal_radar__buckets(base: Settings) -> None:
    radar = revenue.renewal_radar(base, TODAY)
    assert list(zip(radar["name"], radar["bucket"], radar["days_left"], strict=True)) == [
        ("Openscapes hub", "Ended, still Active", -25),
        ("CryoCloud hub", "Within 30 days", 25),
        ("Carpentries hub", "31–90 days", 82),
    ]


def test_radar_boundaries(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "r.duckdb", demo_dir=write_base(tmp_path / "base"))
    run_sync(settings, "demo")
    # CryoCloud ends 2026-12-20: 30 days ahead on 2026-11-20, 31 on 2026-11-19
    radar = revenue.renewal_radar(settings, date(2026, 11, 20)).set_index("name")
    assert radar.loc["CryoCloud hub", "bucket"] == "Within 30 days"
    radar = revenue.renewal_radar(settings, date(2026, 11, 20) - timedelta(days=1))
    assert radar.set_index("name").loc["CryoCloud hub", "bucket"] == "31–90 days"


def test_opportunity_csv__formula_in_a_name_is_neutralised(base: Settings) -> None:
    table = pipeline.opportunity_table(base, usd(), TODAY)
    text = safe_csv(table, pipeline.CSV_COLUMNS).decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[:3] == ["Record id", "Opportunity", "Organization"]
    zeta = next(r for r in rows if r[0] == "recOppZeta")
    assert zeta[1] == "'" + INJECTION_NAME
    assert len(rows) == 7

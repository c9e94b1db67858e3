"""Contract burn-down: each contract's `Amount` against what has been billed on it.

Billed is every receivable of the contract that is not `Void` (synced from AirTable or made
here), in the contract's currency, less its charge lines: cloud costs, services and discounts
are billed besides the contract's fee and are not part of its `Amount`. Remaining is `Amount`
less billed; the months left are how many more months of its fee the remainder covers. A draft
that would take billing past `Amount` is still billed (contracts are amended), but flagged with
the excess: `exceeds_contract_by`.
"""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from sales_core import money, store, summaries
from sales_core.billing import Plan
from sales_core.config import Settings


def burndown(settings: Settings) -> pd.DataFrame:
    """Every contract with an `Amount`, most over first, then least left.

    Columns: contract, community, status, currency, amount, billed, remaining, monthly_fee,
    months_left (None without a fee, 0 once nothing remains).
    """
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        frame = store.execute(
            con,
            f"""
            WITH billed AS ({summaries.billed_source(con)})
            SELECT c.id AS contract_id, c.name AS contract, c.community, c.status,
                   coalesce(c.currency, 'USD') AS currency, c.amount,
                   coalesce(b.billed, 0) AS billed,
                   c.amount - coalesce(b.billed, 0) AS remaining, c.monthly_fee
            FROM contracts AS c LEFT JOIN billed AS b ON b.contract_id = c.id
            WHERE c.amount IS NOT NULL
            ORDER BY remaining / nullif(c.amount, 0), c.name, c.id
            """,
        ).df()
    months: list[int | None] = []
    for remaining, fee in zip(frame["remaining"], frame["monthly_fee"], strict=True):
        left = Decimal(str(remaining))
        if fee is None or pd.isna(fee) or Decimal(str(fee)) <= 0:
            months.append(None)
        else:
            months.append(max(0, int(left // Decimal(str(fee)))))
    frame["months_left"] = pd.array(months, dtype="Int64")
    return frame


def excesses(settings: Settings, plan: Plan) -> dict[str, Decimal]:
    """Invoice key -> how far past its contract's `Amount` billing would be with this draft
    (the drafts of the plan add up in their order). Drafts within the Amount are left out."""
    ids = sorted({d.contract_id for d in plan.drafts})
    with store.connect(settings.db_path, lock_timeout=settings.lock_timeout) as con:
        rows = store.execute(
            con,
            f"WITH billed AS ({summaries.billed_source(con)}) "
            "SELECT c.id, c.amount, c.currency, b.billed FROM contracts AS c "
            "LEFT JOIN billed AS b ON b.contract_id = c.id "
            "WHERE c.amount IS NOT NULL AND c.id IN (SELECT unnest($ids))",
            {"ids": ids},
        ).fetchall()
    billed: dict[str, Decimal] = {}
    limits: dict[str, tuple[Decimal, str]] = {}
    for contract_id, amount, currency, so_far in rows:
        limits[str(contract_id)] = (Decimal(amount), str(currency or "USD"))
        if so_far is not None:
            billed[str(contract_id)] = Decimal(so_far)
    found: dict[str, Decimal] = {}
    for draft in plan.drafts:
        if draft.contract_id not in limits:
            continue
        limit, currency = limits[draft.contract_id]
        if draft.currency != currency:
            continue
        if draft.fee is None:  # charges alone: outside the contract's Amount
            continue
        after = billed.get(draft.contract_id, Decimal(0)) + draft.fee.amount
        billed[draft.contract_id] = after
        if after > limit:
            found[draft.invoice_key] = money.quantize(after - limit, currency)
    return found

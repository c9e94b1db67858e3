"""What the invoice history adds up to, kept as tables so that a page reads a few thousand rows
instead of working through every invoice ever made.

Two summaries, each the result of one query over the history:
- `covered_spans`: per contract, the days its invoices' fee periods cover, merged into disjoint
  spans (what stops a run from billing a period; `billing.islands`), and, as they are, the
  periods that end before they begin (`billing.reversed_periods`).
- `billed_totals`: per contract, what its receivables bill of its fee so far (not Void, in the
  contract's currency, charge lines left out): the burn-down's "billed".

They are rebuilt inside the transaction of every change to the data, the moment the data
version moves (`store.bump_data_version`), and stamped with that version; a change that leaves
the invoice history alone (an email marked sent, a MANIAC-T assessment) only moves the stamp.
A reader uses a table only while its stamp equals the data version, and otherwise runs the
query itself: a database that has not changed since this module arrived, or a change that did
not move the version, gives the same answers, only slower.
"""

from __future__ import annotations

from datetime import date

from sales_core import store
from sales_core.billing import CHARGES_KEY_PART

# Every invoice that can stop a run from billing a period: the ones made here, and the synced
# receivables that were not made here; only those ending on or after `$first` are read.
KNOWN_SQL = """
SELECT contract_id, period_start, period_end, status, number, invoice_key,
       coalesce(void_mode = 'waive', false) AS waived
FROM generated_invoices
WHERE period_end >= $first
UNION ALL
SELECT unnest(contract_ids) AS contract_id, period_start, period_end, status, number, invoice_key,
       false AS waived
FROM invoices
WHERE coalesce(type, $receivable) <> $payable
  AND period_end >= $first
  AND (invoice_key IS NULL OR invoice_key NOT IN (SELECT invoice_key FROM generated_invoices))
"""

# The fee periods the known invoices cover (billing.covered_periods, in SQL: 100,000 invoices
# are read as plain rows, not as KnownInvoice objects).
COVERED_SQL = f"""
SELECT contract_id, period_start, period_end FROM ({KNOWN_SQL}) AS k
WHERE contract_id IS NOT NULL AND period_start IS NOT NULL AND period_end IS NOT NULL
  AND (status IS DISTINCT FROM $void OR waived)
  AND strpos(coalesce(invoice_key, ''), '{CHARGES_KEY_PART}') = 0
"""

# The same days merged into disjoint spans per contract (billing.islands, in SQL): a span
# starts where a period begins after every earlier one has ended, a day or more before it.
# A contract billed month after month without a gap comes back as one row. A period that ends
# before it begins is passed on as it is (billing.reversed_periods).
COVERED_SPANS_SQL = f"""
WITH covered AS ({COVERED_SQL}),
reached AS (
    SELECT contract_id, period_start, period_end,
           max(period_end) OVER (
               PARTITION BY contract_id ORDER BY period_start, period_end
               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
           ) AS reach
    FROM covered WHERE period_start <= period_end
),
numbered AS (
    SELECT contract_id, period_start, period_end,
           sum(CASE WHEN reach IS NULL OR period_start > reach + 1 THEN 1 ELSE 0 END) OVER (
               PARTITION BY contract_id ORDER BY period_start, period_end
               ROWS UNBOUNDED PRECEDING
           ) AS span
    FROM reached
)
SELECT contract_id, min(period_start) AS period_start, max(period_end) AS period_end
FROM numbered
GROUP BY contract_id, span
UNION ALL
SELECT contract_id, period_start, period_end FROM covered WHERE period_start > period_end
"""

# What each contract's receivables bill of its fee: not Void, in the contract's currency, less
# their charge lines (cloud costs, services and discounts are outside a contract's Amount).
BILLED_SQL = """
SELECT i.contract_id, sum(i.amount - coalesce(ch.charged, 0)) AS billed
FROM receivables AS i JOIN contracts AS c ON c.id = i.contract_id
LEFT JOIN (SELECT invoice_key, sum(amount) AS charged FROM invoice_lines
           WHERE kind = 'charge' GROUP BY ALL) AS ch ON ch.invoice_key = i.invoice_key
WHERE coalesce(i.type, $receivable) = $receivable AND i.status IS DISTINCT FROM $void
  AND coalesce(i.currency, 'USD') = coalesce(c.currency, 'USD')
GROUP BY i.contract_id
"""

# The whole history: no invoice ends before the first day DuckDB knows.
_ALL_TIME = date(1, 1, 1)

_STAMP = "summaries_version"


def refresh(con: store.Connection, version: int) -> None:
    """Rebuild both summaries from the history and stamp them with `version` (inside the
    caller's transaction, after its changes)."""
    con.execute("DELETE FROM covered_spans")
    store.execute(
        con,
        f"INSERT INTO covered_spans (contract_id, period_start, period_end) {COVERED_SPANS_SQL}",
        {"first": _ALL_TIME},
    )
    con.execute("DELETE FROM billed_totals")
    store.execute(con, f"INSERT INTO billed_totals (contract_id, billed) {BILLED_SQL}")
    stamp(con, version)


def stamp(con: store.Connection, version: int) -> None:
    """Say the summaries hold the data of `version` (after a rebuild, or a change that left
    the invoice history alone)."""
    con.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [_STAMP, str(int(version))]
    )


def current(con: store.Connection) -> bool:
    """Whether the summary tables hold the data as it is now (stamped with its version)."""
    rows = con.execute(
        "SELECT count(*) FROM meta AS s JOIN meta AS v ON v.key = 'data_version' "
        "WHERE s.key = ? AND s.value = v.value",
        [_STAMP],
    ).fetchall()
    return bool(rows[0][0])


def spans_source(con: store.Connection) -> str:
    """SQL for the covered spans of the invoices ending on or after `$first` (columns
    contract_id, period_start, period_end): the table while it is current, else the query.

    The table holds the whole history: a span it keeps may begin before `$first`, where the
    query's would begin at the first period ending after it. Both cover the same days from
    `$first` on, which is all a run or the unbilled months look at."""
    if current(con):
        return (
            "SELECT contract_id, period_start, period_end FROM covered_spans "
            "WHERE period_end >= $first"
        )
    return COVERED_SPANS_SQL


def billed_source(con: store.Connection) -> str:
    """SQL for what each contract's receivables bill of its fee (contract_id, billed): the
    table while it is current, else the query."""
    if current(con):
        return "SELECT contract_id, billed FROM billed_totals"
    return BILLED_SQL

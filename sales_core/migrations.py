"""The schema's history: every migration as the literal DDL of the day it was written.

A released migration is never edited and never built from today's constants (a column added to
a table's declaration reaches existing databases only through a new migration here). Views name
their columns, so an ALTER on a base table cannot break them. `tests/test_migrations.py`
migrates a database made by release 1 and compares it with a fresh one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


_CURRENT_TABLES = (
    """
    CREATE TABLE opportunities (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        organization VARCHAR,
        stage VARCHAR,
        value DECIMAL(18, 2),
        currency VARCHAR,
        probability_rating INTEGER,
        expected_close DATE,
        target_start DATE,
        target_end DATE,
        category VARCHAR,
        owner_name VARCHAR,
        owner_email VARCHAR,
        last_activity DATE,
        lost_reason VARCHAR,
        created_time TIMESTAMP
    )
    """,
    """
    CREATE TABLE contracts (
        id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        community VARCHAR,
        opportunity_ids VARCHAR[],
        status VARCHAR,
        start_date DATE,
        end_date DATE,
        billing_frequency VARCHAR,
        monthly_fee DECIMAL(18, 2),
        amount DECIMAL(18, 2),
        currency VARCHAR,
        css_pct DECIMAL(9, 6),
        service_type VARCHAR,
        payment_terms INTEGER,
        billing_email VARCHAR,
        created_time TIMESTAMP
    )
    """,
    """
    CREATE TABLE invoices (
        id VARCHAR PRIMARY KEY,
        number VARCHAR,
        invoice_key VARCHAR,
        contract_ids VARCHAR[],
        contract_id VARCHAR,
        period_start DATE,
        period_end DATE,
        issue_date DATE,
        due_date DATE,
        amount DECIMAL(18, 2),
        currency VARCHAR,
        status VARCHAR,
        paid_date DATE,
        type VARCHAR,
        created_time TIMESTAMP
    )
    """,
    """
    CREATE TABLE qualifications (
        id VARCHAR PRIMARY KEY,
        assessment_key VARCHAR NOT NULL,
        opportunity_ids VARCHAR[],
        opportunity_id VARCHAR,
        assessed_by VARCHAR,
        assessed_on DATE,
        money VARCHAR,
        authority VARCHAR,
        need VARCHAR,
        impending_event VARCHAR,
        application VARCHAR,
        competition VARCHAR,
        timeline VARCHAR,
        money_notes VARCHAR,
        authority_notes VARCHAR,
        need_notes VARCHAR,
        impending_event_notes VARCHAR,
        application_notes VARCHAR,
        competition_notes VARCHAR,
        timeline_notes VARCHAR,
        score INTEGER,
        recommendation VARCHAR,
        created_time TIMESTAMP
    )
    """,
)

_M1 = (
    *_CURRENT_TABLES,
    "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
    "INSERT INTO meta VALUES ('data_version', '0')",
    "CREATE SEQUENCE sync_run_ids START 1",
    """
    CREATE TABLE sync_runs (
        id BIGINT PRIMARY KEY DEFAULT nextval('sync_run_ids'),
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        source VARCHAR NOT NULL,
        status VARCHAR NOT NULL,      -- 'ok' or 'failed'
        opportunities INTEGER,
        contracts INTEGER,
        invoices INTEGER,
        qualifications INTEGER,
        rejected INTEGER,
        warnings INTEGER,
        requests INTEGER,
        error VARCHAR
    )
    """,
    """
    CREATE TABLE quarantine (
        sync_run_id BIGINT NOT NULL,
        table_name VARCHAR NOT NULL,
        record_id VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        problem VARCHAR NOT NULL,
        raw_value VARCHAR,
        severity VARCHAR NOT NULL     -- 'rejected' (not loaded) or 'warning' (loaded)
    )
    """,
    """
    CREATE TABLE opportunity_history (
        opportunity_id VARCHAR NOT NULL,
        observed_at TIMESTAMP NOT NULL,
        sync_run_id BIGINT NOT NULL,
        change VARCHAR NOT NULL,      -- 'created', 'changed' or 'deleted'
        name VARCHAR,
        stage VARCHAR,
        value DECIMAL(18, 2),
        currency VARCHAR,
        probability_rating INTEGER
    )
    """,
)

# Assessments saved here (never overwritten) and the newest assessment per opportunity: a
# local row wins over the synced copy of the same key. (The view's `*` is over its own CTE,
# whose columns are named, so it does not move when a base table gains a column.)
_M2 = (
    """
    CREATE TABLE assessments (
        assessment_key VARCHAR PRIMARY KEY,
        opportunity_id VARCHAR NOT NULL,
        assessed_by VARCHAR NOT NULL,
        assessed_on DATE NOT NULL,
        saved_at TIMESTAMP NOT NULL,
        money VARCHAR NOT NULL, money_notes VARCHAR,
        authority VARCHAR NOT NULL, authority_notes VARCHAR,
        need VARCHAR NOT NULL, need_notes VARCHAR,
        impending_event VARCHAR NOT NULL, impending_event_notes VARCHAR,
        application VARCHAR NOT NULL, application_notes VARCHAR,
        competition VARCHAR NOT NULL, competition_notes VARCHAR,
        timeline VARCHAR NOT NULL, timeline_notes VARCHAR,
        score INTEGER NOT NULL,
        recommendation VARCHAR NOT NULL,
        airtable_id VARCHAR,
        pushed_at TIMESTAMP,
        push_error VARCHAR
    )
    """,
    """
    CREATE VIEW latest_assessment AS
    WITH every AS (
        SELECT assessment_key, opportunity_id, assessed_by, assessed_on, score,
               recommendation, saved_at AS recorded_at, 'local' AS origin
        FROM assessments
        UNION ALL
        SELECT q.assessment_key, q.opportunity_id, q.assessed_by, q.assessed_on, q.score,
               q.recommendation, q.created_time AS recorded_at, 'airtable' AS origin
        FROM qualifications AS q
        WHERE q.opportunity_id IS NOT NULL
          AND q.assessment_key NOT IN (SELECT assessment_key FROM assessments)
    )
    SELECT * EXCLUDE (rank) FROM (
        SELECT *, row_number() OVER (
            PARTITION BY opportunity_id
            ORDER BY assessed_on DESC NULLS LAST, recorded_at DESC NULLS LAST,
                     assessment_key DESC
        ) AS rank
        FROM every
    ) WHERE rank = 1
    """,
)

# The local ledger of the invoice run (key and number unique, rows never deleted: a mistake is
# voided) and the audit log of who did what to it.
_M3 = (
    """
    CREATE TABLE generated_invoices (
        invoice_key VARCHAR PRIMARY KEY,
        number VARCHAR NOT NULL UNIQUE,
        contract_id VARCHAR NOT NULL,
        contract_name VARCHAR NOT NULL,
        community VARCHAR NOT NULL,
        billing_email VARCHAR,
        period_start DATE NOT NULL,
        period_end DATE NOT NULL,
        days INTEGER NOT NULL,
        amount DECIMAL(18, 2) NOT NULL,
        currency VARCHAR NOT NULL,
        issue_date DATE NOT NULL,
        due_date DATE NOT NULL,
        payment_terms INTEGER NOT NULL,
        proration VARCHAR NOT NULL,
        description VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        paid_date DATE,
        void_reason VARCHAR,
        run_month VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        push_state VARCHAR NOT NULL,
        airtable_id VARCHAR,
        pushed_at TIMESTAMP,
        push_error VARCHAR
    )
    """,
    "CREATE SEQUENCE audit_ids START 1",
    """
    CREATE TABLE audit_log (
        id BIGINT PRIMARY KEY DEFAULT nextval('audit_ids'),
        logged_at TIMESTAMP NOT NULL,
        actor VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        month VARCHAR,
        invoice_numbers VARCHAR[] NOT NULL,
        detail VARCHAR
    )
    """,
)

_M4 = ("ALTER TABLE generated_invoices ADD COLUMN revision INTEGER DEFAULT 0",)

_M5 = ("ALTER TABLE assessments ADD COLUMN saved_by VARCHAR",)

# Release 1's `receivables` selected `i.*`; migration 7 replaces it with named columns.
_M6 = (
    """
    CREATE VIEW receivables AS
    SELECT i.* FROM invoices AS i
    WHERE i.invoice_key IS NULL
       OR i.invoice_key NOT IN (SELECT invoice_key FROM generated_invoices)
    UNION ALL
    SELECT coalesce(g.airtable_id, 'local:' || g.invoice_key) AS id, g.number, g.invoice_key,
           [g.contract_id] AS contract_ids, g.contract_id, g.period_start, g.period_end,
           g.issue_date, g.due_date, g.amount, g.currency, g.status, g.paid_date,
           'ACCREC' AS type, g.created_at AS created_time
    FROM generated_invoices AS g
    """,
)

# Every invoice the dashboards count, synced or made here; one made here and synced back
# counts once, with the local state.
_M7 = (
    "DROP VIEW receivables",
    """
    CREATE VIEW receivables AS
    SELECT i.id, i.number, i.invoice_key, i.contract_ids, i.contract_id, i.period_start,
           i.period_end, i.issue_date, i.due_date, i.amount, i.currency, i.status,
           i.paid_date, i.type, i.created_time
    FROM invoices AS i
    WHERE i.invoice_key IS NULL
       OR i.invoice_key NOT IN (SELECT invoice_key FROM generated_invoices)
    UNION ALL
    SELECT coalesce(g.airtable_id, 'local:' || g.invoice_key) AS id, g.number, g.invoice_key,
           [g.contract_id] AS contract_ids, g.contract_id, g.period_start, g.period_end,
           g.issue_date, g.due_date, g.amount, g.currency, g.status, g.paid_date,
           'ACCREC' AS type, g.created_at AS created_time
    FROM generated_invoices AS g
    """,
)

# The lines of each invoice made here: until now every invoice had one fee line, whose text,
# period and amount were columns of the invoice; each gets that line as line 1. A charge's
# record id is unique among lines, so no charge is ever billed twice.
_M8 = (
    """
    CREATE TABLE invoice_lines (
        invoice_key VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        kind VARCHAR NOT NULL,
        description VARCHAR NOT NULL,
        amount DECIMAL(18, 2) NOT NULL,
        period_start DATE,
        period_end DATE,
        days INTEGER,
        detail VARCHAR NOT NULL,
        charge_id VARCHAR UNIQUE,
        PRIMARY KEY (invoice_key, position)
    )
    """,
    """
    INSERT INTO invoice_lines (invoice_key, position, kind, description, amount, period_start,
                               period_end, days, detail, charge_id)
    SELECT invoice_key, 1, 'fee', description, amount, period_start, period_end, days,
           proration, NULL
    FROM generated_invoices
    """,
)

# One outbox: assessments gain the push state and revision invoices have, so one push serves
# both. An assessment AirTable confirmed (pushed_at set) is 'pushed', any other 'pending'.
_M9 = (
    "ALTER TABLE assessments ADD COLUMN push_state VARCHAR DEFAULT 'pending'",
    "ALTER TABLE assessments ADD COLUMN revision INTEGER DEFAULT 0",
    """
    UPDATE assessments
    SET push_state = CASE WHEN pushed_at IS NULL THEN 'pending' ELSE 'pushed' END, revision = 0
    """,
)

# The community's purchase order number, printed on its invoices (an optional Contract field).
_M10 = ("ALTER TABLE contracts ADD COLUMN po_number VARCHAR",)

# What AirTable and this app last agreed on for each invoice made here, AirTable's Void Reason,
# and the conflicts a sync or a push found for a person to settle.
_M11 = (
    "ALTER TABLE invoices ADD COLUMN void_reason VARCHAR",
    "ALTER TABLE generated_invoices ADD COLUMN airtable_seen VARCHAR",
    """
    CREATE TABLE invoice_conflicts (
        invoice_key VARCHAR NOT NULL,
        number VARCHAR NOT NULL,
        airtable_id VARCHAR,
        field VARCHAR NOT NULL,
        here VARCHAR,
        there VARCHAR,
        problem VARCHAR NOT NULL,
        found_by VARCHAR NOT NULL,
        found_at TIMESTAMP NOT NULL,
        PRIMARY KEY (invoice_key, field)
    )
    """,
    # The agreed state of the invoices AirTable already holds: the invoice as it is here (what
    # the last push sent), except the state of one changed here since, which AirTable last
    # showed as the synced copy has it. No Void Reason was ever written to AirTable.
    """
    UPDATE generated_invoices SET airtable_seen = CAST(json_object(
        'status', CASE WHEN push_state = 'pushed' THEN status ELSE (
            SELECT max(i.status) FROM invoices AS i
            WHERE i.invoice_key = generated_invoices.invoice_key) END,
        'paid_date', CASE WHEN push_state = 'pushed' THEN CAST(paid_date AS VARCHAR) ELSE (
            SELECT CAST(max(i.paid_date) AS VARCHAR) FROM invoices AS i
            WHERE i.invoice_key = generated_invoices.invoice_key) END,
        'void_reason', NULL,
        'due_date', CAST(due_date AS VARCHAR),
        'number', number,
        'contract_ids', json_array(contract_id),
        'period_start', CAST(period_start AS VARCHAR),
        'period_end', CAST(period_end AS VARCHAR),
        'issue_date', CAST(issue_date AS VARCHAR),
        'amount', CAST(amount AS VARCHAR),
        'currency', currency,
        'type', 'ACCREC') AS VARCHAR)
    WHERE airtable_id IS NOT NULL
       OR invoice_key IN (SELECT invoice_key FROM invoices WHERE invoice_key IS NOT NULL)
    """,
)

# Payments: AirTable's Amount Paid, what has been paid on each invoice made here, every payment
# recorded here, and the changes to synced invoices waiting for their AirTable record (by id).
# The dashboards' view gains the amount paid and the balance (none left once Paid or Void,
# whatever Amount Paid says), and shows a synced invoice's state recorded here until AirTable
# confirms it.
_M12 = (
    "ALTER TABLE invoices ADD COLUMN amount_paid DECIMAL(18, 2)",
    "ALTER TABLE generated_invoices ADD COLUMN amount_paid DECIMAL(18, 2)",
    "CREATE SEQUENCE payment_ids START 1",
    """
    CREATE TABLE payments (
        id BIGINT PRIMARY KEY DEFAULT nextval('payment_ids'),
        number VARCHAR NOT NULL,
        invoice_key VARCHAR,
        record_id VARCHAR,
        amount DECIMAL(18, 2) NOT NULL,
        currency VARCHAR NOT NULL,
        paid_on DATE NOT NULL,
        reference VARCHAR,
        recorded_by VARCHAR NOT NULL,
        recorded_at TIMESTAMP NOT NULL
    )
    """,
    """
    CREATE TABLE synced_invoice_changes (
        airtable_id VARCHAR PRIMARY KEY,
        number VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        paid_date DATE,
        amount_paid DECIMAL(18, 2),
        base_status VARCHAR,
        base_paid_date DATE,
        base_amount_paid DECIMAL(18, 2),
        updated_at TIMESTAMP NOT NULL,
        push_state VARCHAR NOT NULL,
        revision INTEGER NOT NULL DEFAULT 0,
        pushed_at TIMESTAMP,
        push_error VARCHAR
    )
    """,
    "DROP VIEW receivables",
    """
    CREATE VIEW receivables AS
    SELECT i.id, i.number, i.invoice_key, i.contract_ids, i.contract_id, i.period_start,
           i.period_end, i.issue_date, i.due_date, i.amount, i.currency,
           CASE WHEN c.airtable_id IS NULL THEN i.status ELSE c.status END AS status,
           CASE WHEN c.airtable_id IS NULL THEN i.paid_date ELSE c.paid_date END AS paid_date,
           i.type, i.created_time,
           CASE WHEN c.airtable_id IS NULL THEN i.amount_paid ELSE c.amount_paid END
               AS amount_paid,
           CASE WHEN (CASE WHEN c.airtable_id IS NULL THEN i.status ELSE c.status END)
                     IN ('Paid', 'Void') THEN 0
                ELSE i.amount - coalesce(CASE WHEN c.airtable_id IS NULL THEN i.amount_paid
                                              ELSE c.amount_paid END, 0) END AS balance
    FROM invoices AS i
    LEFT JOIN synced_invoice_changes AS c ON c.airtable_id = i.id AND c.push_state <> 'pushed'
    WHERE i.invoice_key IS NULL
       OR i.invoice_key NOT IN (SELECT invoice_key FROM generated_invoices)
    UNION ALL
    SELECT coalesce(g.airtable_id, 'local:' || g.invoice_key) AS id, g.number, g.invoice_key,
           [g.contract_id] AS contract_ids, g.contract_id, g.period_start, g.period_end,
           g.issue_date, g.due_date, g.amount, g.currency, g.status, g.paid_date,
           'ACCREC' AS type, g.created_at AS created_time, g.amount_paid,
           CASE WHEN g.status IN ('Paid', 'Void') THEN 0
                ELSE g.amount - coalesce(g.amount_paid, 0) END AS balance
    FROM generated_invoices AS g
    """,
)

# Delivery: when each invoice made here was emailed (AirTable's Sent At, as ISO text there),
# and every email claimed or sent, one per invoice and step, so no two runs send one twice.
_M13 = (
    "ALTER TABLE invoices ADD COLUMN sent_at VARCHAR",
    "ALTER TABLE generated_invoices ADD COLUMN sent_at TIMESTAMP",
    """
    CREATE TABLE deliveries (
        invoice_key VARCHAR NOT NULL,
        step VARCHAR NOT NULL,
        number VARCHAR NOT NULL,
        recipient VARCHAR NOT NULL,
        subject VARCHAR NOT NULL,
        state VARCHAR NOT NULL,
        claimed_at TIMESTAMP NOT NULL,
        sent_at TIMESTAMP,
        PRIMARY KEY (invoice_key, step)
    )
    """,
)

# Charges (what an invoice bills besides the fee), the contract's bill-to fields, and what a
# charge line prints. A voided invoice that is billed again releases its charges: the line
# keeps the charge's id in released_charge_id, and charge_id (unique) is free for the next run.
_M14 = (
    "ALTER TABLE contracts ADD COLUMN billing_contact VARCHAR",
    "ALTER TABLE contracts ADD COLUMN billing_address VARCHAR",
    "ALTER TABLE contracts ADD COLUMN customer_tax_id VARCHAR",
    """
    CREATE TABLE charges (
        id VARCHAR PRIMARY KEY,
        description VARCHAR NOT NULL,
        contract_ids VARCHAR[],
        contract_id VARCHAR,
        kind VARCHAR,
        amount DECIMAL(18, 2) NOT NULL,
        currency VARCHAR,
        service_start DATE,
        service_end DATE,
        bill_in DATE,
        quantity DECIMAL(18, 4),
        unit_price DECIMAL(18, 6),
        created_time TIMESTAMP
    )
    """,
    "ALTER TABLE sync_runs ADD COLUMN charges INTEGER",
    "ALTER TABLE invoice_lines ADD COLUMN charge_kind VARCHAR",
    "ALTER TABLE invoice_lines ADD COLUMN quantity DECIMAL(18, 4)",
    "ALTER TABLE invoice_lines ADD COLUMN unit_price DECIMAL(18, 6)",
    "ALTER TABLE invoice_lines ADD COLUMN released_charge_id VARCHAR",
)

# Corrections. A void either bills the period again ('rebill', what every void did before) or
# waives it ('waive': its period and charges stay covered). Credit notes: their own numbers,
# pushed to AirTable's Invoices table as ACCRECCREDIT rows linked to the invoice they credit.
# The receivables view gains what was credited, lowering the balance, and the credit notes
# made here as rows of their own (type ACCRECCREDIT), for revenue.
_M15 = (
    "ALTER TABLE generated_invoices ADD COLUMN void_mode VARCHAR",
    "ALTER TABLE invoices ADD COLUMN credited_invoice_ids VARCHAR[]",
    """
    CREATE TABLE credit_notes (
        invoice_key VARCHAR PRIMARY KEY,
        number VARCHAR NOT NULL UNIQUE,
        credited_number VARCHAR NOT NULL,
        credited_key VARCHAR,
        credited_record_id VARCHAR,
        contract_id VARCHAR,
        community VARCHAR,
        currency VARCHAR NOT NULL,
        amount DECIMAL(18, 2) NOT NULL,
        reason VARCHAR NOT NULL,
        issue_date DATE NOT NULL,
        created_by VARCHAR NOT NULL,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        airtable_id VARCHAR,
        push_state VARCHAR NOT NULL,
        revision INTEGER NOT NULL DEFAULT 0,
        pushed_at TIMESTAMP,
        push_error VARCHAR
    )
    """,
    "DROP VIEW receivables",
    """
    CREATE VIEW receivables AS
    WITH credits AS (
        SELECT credited_number AS number, sum(amount) AS credited
        FROM credit_notes GROUP BY ALL
        UNION ALL
        SELECT t.number, sum(n.amount) AS credited
        FROM invoices AS n JOIN invoices AS t ON t.id = n.credited_invoice_ids[1]
        WHERE n.type = 'ACCRECCREDIT' AND coalesce(n.status, '') <> 'Void'
          AND (n.invoice_key IS NULL
               OR n.invoice_key NOT IN (SELECT invoice_key FROM credit_notes))
        GROUP BY ALL
    ),
    credited AS (SELECT number, sum(credited) AS credited FROM credits GROUP BY ALL),
    synced AS (
        SELECT i.id, i.number, i.invoice_key, i.contract_ids, i.contract_id, i.period_start,
               i.period_end, i.issue_date, i.due_date, i.amount, i.currency,
               CASE WHEN c.airtable_id IS NULL THEN i.status ELSE c.status END AS status,
               CASE WHEN c.airtable_id IS NULL THEN i.paid_date ELSE c.paid_date END
                   AS paid_date,
               i.type, i.created_time,
               CASE WHEN c.airtable_id IS NULL THEN i.amount_paid ELSE c.amount_paid END
                   AS amount_paid
        FROM invoices AS i
        LEFT JOIN synced_invoice_changes AS c
               ON c.airtable_id = i.id AND c.push_state <> 'pushed'
        WHERE (i.invoice_key IS NULL
               OR i.invoice_key NOT IN (SELECT invoice_key FROM generated_invoices))
          AND (i.invoice_key IS NULL
               OR i.invoice_key NOT IN (SELECT invoice_key FROM credit_notes))
    ),
    made_here AS (
        SELECT coalesce(g.airtable_id, 'local:' || g.invoice_key) AS id, g.number,
               g.invoice_key, [g.contract_id] AS contract_ids, g.contract_id, g.period_start,
               g.period_end, g.issue_date, g.due_date, g.amount, g.currency, g.status,
               g.paid_date, 'ACCREC' AS type, g.created_at AS created_time, g.amount_paid
        FROM generated_invoices AS g
    )
    SELECT r.id, r.number, r.invoice_key, r.contract_ids, r.contract_id, r.period_start,
           r.period_end, r.issue_date, r.due_date, r.amount, r.currency, r.status,
           r.paid_date, r.type, r.created_time, r.amount_paid,
           CASE WHEN r.status IN ('Paid', 'Void') OR r.type = 'ACCRECCREDIT' THEN 0
                ELSE r.amount - coalesce(r.amount_paid, 0) - coalesce(k.credited, 0)
           END AS balance,
           coalesce(k.credited, 0) AS credited
    FROM (SELECT * FROM synced UNION ALL SELECT * FROM made_here) AS r
    LEFT JOIN credited AS k
           ON k.number = r.number AND coalesce(r.type, 'ACCREC') = 'ACCREC'
    UNION ALL
    SELECT coalesce(n.airtable_id, 'local:' || n.invoice_key) AS id, n.number, n.invoice_key,
           [n.contract_id] AS contract_ids, n.contract_id, NULL AS period_start,
           NULL AS period_end, n.issue_date, n.issue_date AS due_date, n.amount, n.currency,
           'Authorized' AS status, NULL AS paid_date, 'ACCRECCREDIT' AS type,
           n.created_at AS created_time, NULL AS amount_paid, 0 AS balance, 0 AS credited
    FROM credit_notes AS n
    """,
)

# Bill to, as the contract gave it when an invoice was made: an address corrected later does not
# rewrite invoices already sent. Invoices made before this print the contract's current values.
_M16 = (
    "ALTER TABLE generated_invoices ADD COLUMN billing_contact VARCHAR",
    "ALTER TABLE generated_invoices ADD COLUMN billing_address VARCHAR",
    "ALTER TABLE generated_invoices ADD COLUMN po_number VARCHAR",
    "ALTER TABLE generated_invoices ADD COLUMN customer_tax_id VARCHAR",
)

# The AirTable table id behind each synced table, read from the schema API at each sync, so
# that every record shown can link to https://airtable.com/{base}/{table id}/{record id}.
_M17 = (
    """
    CREATE TABLE airtable_tables (
        table_key VARCHAR PRIMARY KEY,
        base_id VARCHAR NOT NULL,
        table_id VARCHAR NOT NULL
    )
    """,
)

# What the invoice history adds up to, kept as tables (sales_core/summaries.py): the days each
# contract's invoices cover as disjoint spans, and what each contract has billed of its fee.
# Filled at the next change of the data; until then the readers run the queries themselves.
_M18 = (
    """
    CREATE TABLE covered_spans (
        contract_id VARCHAR NOT NULL,
        period_start DATE NOT NULL,
        period_end DATE NOT NULL
    )
    """,
    """
    CREATE TABLE billed_totals (
        contract_id VARCHAR PRIMARY KEY,
        billed DECIMAL(38, 2) NOT NULL
    )
    """,
)

# Append only: a released migration is never edited; add a new one instead.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "current tables, sync runs, quarantine, opportunity history", _M1),
    Migration(2, "local MANIAC-T assessments and the latest per opportunity", _M2),
    Migration(3, "generated invoices and the audit log", _M3),
    Migration(4, "a revision counter on generated invoices", _M4),
    Migration(5, "who saved each local assessment", _M5),
    Migration(6, "every invoice the dashboards count, synced or made here", _M6),
    Migration(7, "the receivables view names its columns", _M7),
    Migration(8, "invoice lines, one fee line for each invoice made so far", _M8),
    Migration(9, "assessments join the outbox: a push state and a revision", _M9),
    Migration(10, "the PO Number of a contract", _M10),
    Migration(11, "the state agreed with AirTable, its Void Reason, and conflicts", _M11),
    Migration(12, "payments, Amount Paid and the balance of every receivable", _M12),
    Migration(13, "Sent At and the emails sent, once per invoice and step", _M13),
    Migration(14, "charges, the bill-to fields of a contract, and what a charge line prints", _M14),
    Migration(15, "void and bill again or waive; credit notes; credits lower the balance", _M15),
    Migration(16, "the bill-to details of an invoice, as its contract gave them", _M16),
    Migration(17, "the AirTable table ids, for links to each record", _M17),
    Migration(18, "the covered spans and the billed totals of each contract, kept", _M18),
)

LATEST = MIGRATIONS[-1].version

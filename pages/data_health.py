"""Data health: the records the last sync quarantined or warned about, and the sync history."""

import streamlit as st

from sales_core import health, reconcile
from sales_core.formatting import counted
from ui import chrome, links, view_state
from ui.invoice_panels import CONFLICT_COLUMNS

PAGE = "data_health"
SEVERITIES = ["rejected", "warning"]

# The quarantine's columns: name -> header, in the table and its CSV alike.
QUARANTINE_CSV = {
    "severity": "Severity",
    "table_name": "Table",
    "record_id": "Record id",
    "field": "Field",
    "problem": "Problem",
    "raw_value": "Value received",
}
HISTORY_ORDER = [
    "id",
    "started_at",
    "source",
    "status",
    "error",
    "opportunities",
    "contracts",
    "invoices",
    "qualifications",
    "rejected",
    "warnings",
    "requests",
    "finished_at",
]

with chrome.page() as (settings, status):
    st.title("Data health")
    st.markdown(
        "Each sync checks every record. A **rejected** record could not be read (a required "
        "field is empty, or a field holds a formula error or a value of the wrong type): it is "
        "not loaded, and its last good version, if any, stays. A **warning** marks a record that "
        "loaded but needs a look (an unknown option, a link to a deleted record, a value billing "
        "needs)."
    )

    record = links.record_links(settings, status)
    problems = health.quarantine(settings.db_path, lock_timeout=settings.lock_timeout)
    left, right = st.columns(2)
    left.metric("Quarantined records", f"{status.rejected:,}")
    right.metric("Warnings", f"{status.warnings:,}")

    if problems.empty:
        st.success("The last sync found no problems." if status.has_data else "No sync yet.")
    else:
        tables = sorted(problems["table_name"].unique())
        # In the URL and kept for the next visit (ui/view_state.py); an empty choice shows all.
        params = [
            view_state.choices("health_tables", "table", "Table", tables),
            view_state.choices("health_severity", "severity", "Severity", SEVERITIES),
        ]
        view_state.show_notes(view_state.restore(PAGE, params))
        chosen = st.multiselect("Tables", tables, placeholder="Every table", key="health_tables")
        severities = st.multiselect(
            "Severity", SEVERITIES, placeholder="Every severity", key="health_severity"
        )
        view_state.publish(PAGE, params)
        chosen = chosen or tables
        severities = severities or SEVERITIES
        shown = problems[
            problems["table_name"].isin(chosen) & problems["severity"].isin(severities)
        ]
        problems_shown, problem_links = links.linked(
            shown,
            record,
            shown["table_name"],
            after="record_id",
            id_column="record_id",
            keep_id=True,
        )
        st.dataframe(
            problems_shown,
            placeholder="—",
            hide_index=True,
            width="stretch",
            column_config={**problem_links, **QUARANTINE_CSV},
        )
        st.caption(f"{len(shown):,} of {len(problems):,} problems shown.")
        chrome.csv_download(
            st,
            f"Download {len(shown):,} problems (CSV)",
            shown,
            "quarantine.csv",
            key="quarantine_csv",
            columns=QUARANTINE_CSV,
        )

    st.subheader("Conflicts with AirTable")
    conflicts = reconcile.conflicts(settings)
    if conflicts.empty:
        st.caption(
            "None: every invoice made here agrees with AirTable, or AirTable's changes were taken."
        )
    else:
        st.warning(
            f"{counted(len(conflicts), 'field')} of invoices made here "
            f"changed both here and in AirTable, or changed in AirTable where this app does not "
            f"take it. Their push waits; a biller settles them on the Invoices page."
        )
        conflicts_shown, conflict_links = links.linked(
            conflicts[["number", "field", "here", "there", "problem", "found_by", "airtable_id"]],
            record,
            "invoices",
            after="airtable_id",
            id_column="airtable_id",
            keep_id=True,
        )
        st.dataframe(
            conflicts_shown,
            hide_index=True,
            width="stretch",
            placeholder="—",
            column_config={
                **conflict_links,
                **CONFLICT_COLUMNS,
                "found_by": "Found by",
                "airtable_id": "Record id",
            },
        )
        chrome.csv_download(
            st, "Download the conflicts (CSV)", conflicts, "conflicts.csv", "conflicts_csv"
        )

    st.subheader("Sync history")
    runs = health.sync_history(settings.db_path, lock_timeout=settings.lock_timeout)
    if runs.empty:
        st.info("No sync has run yet.")
    else:
        st.dataframe(
            runs,
            placeholder="—",
            hide_index=True,
            width="stretch",
            # the reason a run failed next to its status, where it shows at 1400 px without
            # scrolling sideways; the counts after it
            column_order=HISTORY_ORDER,
            column_config={
                "id": "Run",
                "started_at": st.column_config.DatetimeColumn(
                    "Started (UTC)", format="YYYY-MM-DD HH:mm:ss"
                ),
                "finished_at": st.column_config.DatetimeColumn(
                    "Finished (UTC)", format="YYYY-MM-DD HH:mm:ss"
                ),
                "source": "Source",
                "status": "Status",
                "opportunities": "Opportunities",
                "contracts": "Contracts",
                "invoices": "Invoices",
                "qualifications": "Assessments",
                "rejected": "Quarantined",
                "warnings": "Warnings",
                "requests": "Requests",
                "error": st.column_config.TextColumn("Reason", width="large"),
            },
        )
        chrome.csv_download(
            st, "Download the sync history (CSV)", runs, "sync-history.csv", "history_csv"
        )

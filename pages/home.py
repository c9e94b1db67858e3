"""Overview: where the data comes from, how fresh it is, what it holds and its health."""

import streamlit as st

from pages import chrome

settings, status = chrome.page_start()

st.title("Sales & invoicing console")

source = f"AirTable base `{settings.base_id}`" if settings.airtable_configured else "the demo data"
if not status.has_data:
    st.info(f"No data yet. Press **Sync now** in the sidebar to copy {source} into the app.")
    if status.last_run_status == "failed":
        st.error(f"The last sync failed: {status.last_run_error}")
    st.stop()

assert status.last_ok_at is not None
st.markdown(
    f"Reading **{source}**. Last synced **{chrome.ago(status.last_ok_at)}** "
    f"({status.last_ok_at:%Y-%m-%d %H:%M} UTC, from {status.last_ok_source})."
)
if status.last_run_status == "failed":
    st.warning(
        f"The latest sync failed, so this is the data of the sync before it. "
        f"Reason: {status.last_run_error}"
    )

columns = st.columns(4)
labels = {
    "opportunities": "Opportunities",
    "contracts": "Contracts",
    "invoices": "Invoices",
    "qualifications": "Assessments",
}
for column, (table, label) in zip(columns, labels.items(), strict=True):
    column.metric(label, f"{status.counts[table]:,}")

st.subheader("Data health")
if status.rejected or status.warnings:
    st.markdown(
        f"**{status.rejected}** quarantined record{'s' if status.rejected != 1 else ''} "
        f"(not loaded) and **{status.warnings}** warning{'s' if status.warnings != 1 else ''} "
        f"from the last sync."
    )
else:
    st.markdown("The last sync found no problems in the records.")
st.page_link("pages/data_health.py", label="Open Data health")

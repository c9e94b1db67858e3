"""The router. Each page draws the shared chrome (banner, sidebar) through `pages.chrome`."""

import streamlit as st

from pages import chrome

st.set_page_config(page_title="Sales & invoicing console", page_icon="📈", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Overview", default=True),
        st.Page("pages/pipeline.py", title="Pipeline", url_path="pipeline"),
        st.Page("pages/revenue.py", title="Revenue", url_path="revenue"),
        st.Page("pages/data_health.py", title="Data health", url_path="data-health"),
    ]
)

settings = chrome.settings_or_stop()
chrome.first_demo_sync(settings)
navigation.run()

"""The router. Each page draws the shared chrome (banner, sidebar) through `pages.chrome`."""

import streamlit as st

from pages import chrome

st.set_page_config(page_title="Sales & invoicing console", page_icon="📈", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Overview", default=True),
        st.Page("pages/qualify.py", title="Qualify a lead", url_path="qualify"),
        st.Page("pages/data_health.py", title="Data health", url_path="data-health"),
    ]
)

settings = chrome.settings_or_stop()
chrome.first_demo_sync(settings)
navigation.run()

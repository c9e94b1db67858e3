"""The baseline of benchmarks/browser.py: one plain Streamlit page with one plotly chart and
one 100-row table, the least a dashboard page does."""

import pandas as pd
import plotly.express as px
import streamlit as st

st.set_page_config(page_title="Baseline", layout="wide")
st.title("Baseline")
frame = pd.DataFrame({"month": [f"2026-{m:02d}" for m in range(1, 13)] * 9, "value": range(108)})
st.plotly_chart(px.bar(frame.head(12), x="month", y="value"), width="stretch")
st.dataframe(frame.head(100), hide_index=True, width="stretch")

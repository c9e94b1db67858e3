"""The app's pages besides the Overview (app.py): thin Streamlit scripts over `sales_core`.

Streamlit treats every file here as a page, so this folder holds pages only; what they share
lives in `ui/`."""

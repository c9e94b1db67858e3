"""The app's pages: thin Streamlit scripts over `sales_core` (chrome.py is shared, not a page)."""

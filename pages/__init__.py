"""The app's pages: thin Streamlit scripts over `sales_core`."""

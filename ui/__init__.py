"""What the pages share and that is not a page: the chrome (sign-in gate, sidebar, banners) and
the cached queries. Streamlit treats every file in pages/ as a page, so these live here."""

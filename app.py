"""The router. Each page draws the shared chrome itself, through `pages.chrome.page_start()`;
someone without access is routed to the refusal alone, with no navigation.

Why the pages, not this script: with a `pages/` folder beside it, Streamlit runs the first
request of a fresh server in its old folder mode, straight to the page file, skipping this
script (and AppTest does so on every page switch). Pages that set themselves up work both ways.
"""

from pages import chrome

chrome.navigation().run()

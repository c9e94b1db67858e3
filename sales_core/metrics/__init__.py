"""Pipeline and revenue figures: SQL over the local store that returns small DataFrames.

One module per concept: `common` (connections, stages, filters), `overview` (the home tiles),
`pipeline` and `revenue`. Every function aggregates in DuckDB and hands back a few rows; money
stays `Decimal` (DuckDB `DECIMAL`) and every total is per currency. "Today" is an argument, so
the figures are the same in a test whatever the clock says.
"""

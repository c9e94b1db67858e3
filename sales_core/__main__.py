"""`python -m sales_core`: the command line."""

from sales_core.cli import main

raise SystemExit(main())

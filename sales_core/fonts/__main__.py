"""`python -m sales_core.fonts`: rebuild the cut-down font files from the full fonts."""

from sales_core.fonts.build import build

for path in build():
    print(f"wrote {path.name} ({path.stat().st_size / 1024:,.0f} KiB)")

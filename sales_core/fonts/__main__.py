"""`python -m sales_core.fonts [FULL_BOLD_TTF]`: rebuild the cut-down invoice fonts."""

import sys
from pathlib import Path

from sales_core.fonts import BOLD, FALLBACK, REGULAR, build

SYSTEM_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
build(FALLBACK, Path(sys.argv[1]) if len(sys.argv) > 1 else SYSTEM_BOLD)
print(f"wrote {REGULAR.name} and {BOLD.name}")

"""`python -m sales_core.pdf_worker JOB`: render one share of a run's invoice PDFs.

Started by `pdf.write_invoices`; JOB is a pickle, written by that same code a moment before,
of (documents, seller, directory). Exits non-zero with the reason on stderr when a PDF fails.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from sales_core.pdf import write_batch


def main(argv: list[str]) -> int:
    """Render the documents of one job file."""
    documents, seller, directory = pickle.loads(Path(argv[0]).read_bytes())  # our own file
    write_batch(documents, seller, directory)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

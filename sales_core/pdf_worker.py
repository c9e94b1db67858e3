"""`python -m sales_core.pdf_worker JOB PARENT`: render one share of a run's invoice PDFs.

Started by `pdf.write_invoices`; JOB is a pickle, written by that same code a moment before,
of (documents, seller, directory), deleted here once read. PARENT is the starting process's
id: when it has died (killed mid-run), the worker stops too, before its next PDF. Exits
non-zero with the reason on stderr when a PDF fails; an invoice whose text no font can print
is left without a PDF, the others of the share are written, and the worker exits 2 with one
line per such invoice.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

from sales_core.errors import UnprintableTextError
from sales_core.pdf import UNPRINTABLE_EXIT, write_invoice


def main(argv: list[str]) -> int:
    """Render the documents of one job file, while the process that started it lives."""
    job, parent = Path(argv[0]), int(argv[1])
    documents, seller, directory = pickle.loads(job.read_bytes())  # our own file
    job.unlink(missing_ok=True)
    unprintable = []
    for document in documents:
        if os.getppid() != parent:
            print("the invoice run that started this worker has ended", file=sys.stderr)
            return 3
        try:
            write_invoice(document, seller, directory)
        except UnprintableTextError as exc:  # that invoice only: the others still get theirs
            unprintable.append(str(exc))
    if unprintable:
        print("\n".join(unprintable), file=sys.stderr)
        return UNPRINTABLE_EXIT
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

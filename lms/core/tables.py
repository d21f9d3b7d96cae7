"""Tables people open in a spreadsheet (a teacher's results, statistics, the gradebook): CSV for Excel as
Russian users have it (semicolons, UTF-8 with a BOM, decimal commas) and .xlsx, both safe from formula
injection."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from lms.core.i18n import fmt_number
from lms.core.validators import neutralize_formula, xlsx_cell


def csv_bytes(rows: Iterable[Sequence]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    for row in rows:
        writer.writerow([neutralize_formula(fmt_number(c) if isinstance(c, float) else c) for c in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def xlsx_bytes(sheets: Iterable[tuple[str, Iterable[Sequence]]]) -> bytes:
    """Sheets of rows (title, rows) as an .xlsx workbook; a title is cut to Excel's 31 characters."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title, rows in sheets:
        ws = wb.create_sheet(title=str(title)[:31])
        for row in rows:
            ws.append([xlsx_cell(c) for c in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

"""Panel papers and minutes as PDF (WeasyPrint), from the same templates as the pages."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported here: WeasyPrint loads Pango, which pages don't need

    return bytes(HTML(string=html).write_pdf())


def papers_pdf(case: Any) -> bytes:
    """The case's papers as a PDF. The caller has checked the reader may see the case."""
    from complexcases.panels.selectors import papers

    return html_to_pdf(
        render_to_string("panels/papers_pdf.html", {"case": case, "papers": papers(case)})
    )


def minutes_pdf(meeting: Any, records: list[Any]) -> bytes:
    """The meeting's minutes holding only `records` (the cases the reader may see)."""
    return html_to_pdf(
        render_to_string("panels/minutes_pdf.html", {"meeting": meeting, "cases": records})
    )

"""HTML → PDF with WeasyPrint, and QR codes as inline SVG.

WeasyPrint draws text with Pango and the fonts installed on the machine (Debian packages
``libpango-1.0-0``, ``libpangoft2-1.0-0`` and ``fonts-dejavu``). Without Pango the import fails; the
application still runs, and a request for a PDF gets a clear message instead of a 500.
"""

from __future__ import annotations

import io
import logging

from flask_babel import gettext as _

from lms.core.errors import DomainError

log = logging.getLogger(__name__)

#: Printed documents use DejaVu (Cyrillic, Debian package fonts-dejavu) with generic fallbacks.
PRINT_FONTS = '"DejaVu Serif", "Liberation Serif", "Times New Roman", serif'


class PdfUnavailable(DomainError):
    status = 503


def _weasyprint():
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango's shared libraries are missing
        log.error("PDF: WeasyPrint cannot load: %s", exc)
        raise PdfUnavailable(_("PDF documents cannot be made on this server: the Pango library is not "
                               "installed (Debian packages libpango-1.0-0 and libpangoft2-1.0-0).")) from exc
    return weasyprint


def render_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """A PDF of ``html``. Images and stylesheets are resolved against ``base_url``; nothing is fetched
    from the network unless the HTML names it (callers pass data: URLs or inline SVG)."""
    weasyprint = _weasyprint()
    return weasyprint.HTML(string=html, base_url=base_url, url_fetcher=_no_network).write_pdf()


def _no_network(url: str, *args, **kwargs):
    """Only data: URLs: a document template an organization edits must not make the server fetch URLs."""
    if url.startswith("data:"):
        from weasyprint.urls import default_url_fetcher

        return default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"external resource refused in a PDF: {url[:100]}")


def qr_svg(data: str, *, scale: int = 4, title: str | None = None) -> str:
    """An SVG QR code (error correction M) for embedding in HTML or a PDF."""
    import segno

    buffer = io.BytesIO()
    segno.make(data, error="m", micro=False).save(buffer, kind="svg", scale=scale, xmldecl=False,
                                                  svgns=True, title=title, nl=False)
    return buffer.getvalue().decode()

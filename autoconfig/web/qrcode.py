"""A QR code that takes the settings page from a desktop to a phone's camera.

Made here by segno as inline SVG: no script, no image request, no third party, so
the page's Content-Security-Policy stays as strict as it is.
"""

from __future__ import annotations

import segno

QR_SCALE = 4  # units per module; the style sheet sizes the drawing (it has a viewBox)
QR_BORDER = 4  # the quiet zone ISO/IEC 18004 asks for, in modules


def qr_svg(url: str) -> str:
    """An ``<svg>`` element (dark on white, also in dark mode) encoding ``url``."""
    code = segno.make(url, error="m", micro=False)
    svg: str = code.svg_inline(
        scale=QR_SCALE, border=QR_BORDER, dark="#000", light="#fff", svgclass="qr",
        omitsize=True,
    )
    return svg

"""The COI label's barcode: Code 128 drawn as SVG by python-barcode (no image library needed).

Code 128 is what ISBT 128 labels carry for their linear codes, and what the
hand-held scanners of a pharmacy read; SVG keeps it sharp on screen and on print.
"""

from __future__ import annotations

import io

from barcode import Code128
from barcode.writer import SVGWriter


def code128_svg(text: str) -> bytes:
    """An SVG image of ``text`` as Code 128, with the human-readable line under the bars."""
    buffer = io.BytesIO()
    Code128(text, writer=SVGWriter()).write(buffer, options={"module_height": 12.0, "font_size": 8, "text_distance": 4})
    return buffer.getvalue()

"""The COI label's barcodes: Code 128 (python-barcode) and an ISBT 128 DataMatrix (zxing-cpp), both drawn as SVG.

Code 128 is what ISBT 128 labels carry for their linear codes, and what the
hand-held scanners of a pharmacy read. The DataMatrix carries the COI as its
ISBT 128 data structure (``&/`` followed by the 15 characters, docs/labels.md), so
a 2D imager reads the same identifier with its data identifier. SVG keeps both
sharp on screen and on a label printer.
"""

from __future__ import annotations

import io
import re

import zxingcpp
from barcode import Code128
from barcode.writer import SVGWriter

# A DataMatrix module drawn this many SVG user units wide: the image is then scaled to the label by CSS.
DATAMATRIX_SCALE = 4


def code128_svg(text: str) -> bytes:
    """An SVG image of ``text`` as Code 128, with the human-readable line under the bars."""
    buffer = io.BytesIO()
    Code128(text, writer=SVGWriter()).write(buffer, options={"module_height": 12.0, "font_size": 8, "text_distance": 4})
    return buffer.getvalue()


def datamatrix_svg(data: str) -> bytes:
    """An SVG image of ``data`` as a DataMatrix (ECC 200, square), quiet zone included, no text under it."""
    symbol = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.DataMatrix)
    svg = symbol.to_svg(scale=DATAMATRIX_SCALE, add_hrt=False, add_quiet_zones=True)
    # The generator names itself in a <desc>; a label needs no such line, and a screen reader reads the alt text.
    return re.sub(r"\s*<desc>[^<]*</desc>", "", svg).encode()

"""Vega in and out of the report: the JavaScript bundle inlined in the page, and charts exported as
SVG and PNG for documents. Both come from vl-convert, which carries Vega, Vega-Lite and vega-embed and
renders without a browser or a network.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from gensandbox.errors import UserError

KOREAN_FONTS = Path("/usr/share/fonts/truetype/nanum")  # Debian's fonts-nanum; used when present
EMBED_OPTIONS = {"mode": "vega-lite", "renderer": "svg",
                 # Only the image exports: the editor and source actions would link to vega.github.io.
                 "actions": {"export": True, "source": False, "compiled": False, "editor": False}}


@functools.cache
def vega_bundle() -> str:
    """Vega + Vega-Lite + vega-embed as one script (about 900 KB), made safe to inline in <script>.
    Built once per process: vl-convert takes about a second to assemble it."""
    import vl_convert

    # A literal "</script" inside the code would end the element early; "<\/script" means the same in JS.
    return re.sub(r"</(script)", r"<\\/\1", vl_convert.javascript_bundle(), flags=re.IGNORECASE)


def script_json(value: object) -> str:
    """JSON that can sit inside <script type="application/json"> whatever strings it holds: '<', '>' and '&'
    are written as \\u escapes, so an answer containing </script> or <!-- cannot end or confuse the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


@functools.cache
def _register_fonts() -> None:
    import vl_convert

    if KOREAN_FONTS.is_dir():  # so Hangul in titles and labels renders in PNGs on any machine with the fonts
        vl_convert.register_font_directory(str(KOREAN_FONTS))


def export_charts(specs: dict[str, dict], directory: Path) -> list[Path]:
    """Write each chart as NAME.svg and NAME.png (2× scale, for print) into `directory`."""
    import vl_convert

    _register_fonts()
    written = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, spec in specs.items():
            svg, png = directory / f"{name}.svg", directory / f"{name}.png"
            svg.write_text(vl_convert.vegalite_to_svg(spec), encoding="utf-8")
            png.write_bytes(vl_convert.vegalite_to_png(spec, scale=2))
            written += [svg, png]
    except OSError as error:
        raise UserError(f"cannot write the charts to {directory}: {error.strerror}") from None
    return written

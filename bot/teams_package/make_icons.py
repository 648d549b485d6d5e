"""Draw the Teams app icons once; the PNGs are committed next to this script.

    .venv/bin/python bot/teams_package/make_icons.py

``color.png``: 192×192, a white speech bubble with an "L" on the accent colour
(the manifest's ``accentColor``). ``outline.png``: 32×32, the same bubble in white on
transparent with the "L" cut out, as Teams requires. Drawn at 8× and scaled down.
Not needed at run time (Pillow comes with matplotlib).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ACCENT = (11, 79, 108)  # #0B4F6C, the manifest's accentColor
WHITE = (255, 255, 255)
SCALE = 8

RGBA = tuple[int, int, int, int]


def _bubble(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], fill: RGBA) -> None:
    """A rounded speech bubble in ``box`` (left, top, right, bottom), tail bottom left."""
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    body_bottom = top + height * 0.80
    radius = min(width, body_bottom - top) * 0.28
    draw.rounded_rectangle((left, top, right, body_bottom), radius=radius, fill=fill)
    tail = [
        (left + width * 0.22, body_bottom - radius * 0.5),
        (left + width * 0.46, body_bottom - radius * 0.5),
        (left + width * 0.16, bottom),
    ]
    draw.polygon(tail, fill=fill)


def _letter_l(
    draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], fill: RGBA
) -> None:
    """A block "L" centred in the bubble body of ``box``."""
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    body_bottom = top + height * 0.80
    body_height = body_bottom - top
    stroke = width * 0.13
    x0 = left + width * 0.36
    y0 = top + body_height * 0.20
    y1 = top + body_height * 0.80
    draw.rectangle((x0, y0, x0 + stroke, y1), fill=fill)
    draw.rectangle((x0, y1 - stroke, left + width * 0.68, y1), fill=fill)


def color_icon() -> Image.Image:
    size = 192 * SCALE
    image = Image.new("RGBA", (size, size), (*ACCENT, 255))
    draw = ImageDraw.Draw(image)
    # Teams asks for the symbol inside the middle of the tile, with room around it.
    box = (44 * SCALE, 46 * SCALE, 148 * SCALE, 150 * SCALE)
    _bubble(draw, box, (*WHITE, 255))
    _letter_l(draw, box, (*ACCENT, 255))
    return image.resize((192, 192), Image.Resampling.LANCZOS)


def outline_icon() -> Image.Image:
    size = 32 * SCALE
    # Transparent *white*, so scaling never mixes in a dark fringe: only alpha varies.
    image = Image.new("RGBA", (size, size), (*WHITE, 0))
    draw = ImageDraw.Draw(image)
    box = (3 * SCALE, 3 * SCALE, 29 * SCALE, 29 * SCALE)
    _bubble(draw, box, (*WHITE, 255))
    _letter_l(draw, box, (*WHITE, 0))
    return image.resize((32, 32), Image.Resampling.LANCZOS)


def main() -> None:
    color_icon().convert("RGB").save(HERE / "color.png", optimize=True)
    outline = outline_icon()
    # Resampling may nudge RGB off pure white at the edges; Teams wants white + alpha only.
    alpha = outline.getchannel("A")
    outline = Image.merge("RGBA", (*Image.new("RGB", outline.size, WHITE).split(), alpha))
    outline.save(HERE / "outline.png", optimize=True)


if __name__ == "__main__":
    main()

"""Charts drawn by the app: plain functions that turn numbers into an SVG string.

No JavaScript, no external asset: the SVG is put inline in the page. It scales to the width
of its container (a ``viewBox`` and ``width="100%"``), colours are presentation attributes (a
content security policy that forbids inline styles leaves them alone), and every text that
comes from data (labels, the title) is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

# The drawing's own units; the browser scales them to the container's width.
WIDTH = 400
HEIGHT = 180
MARGIN_LEFT = 38
MARGIN_RIGHT = 6
MARGIN_TOP = 10
MARGIN_BOTTOM = 28
FONT_SIZE = 13
MAX_BAR_WIDTH = 36

BAR_COLOUR = "#0b7a3e"
GAP_COLOUR = "#e8eaed"
GRID_COLOUR = "#d0d7de"
TEXT_COLOUR = "#636c76"


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50… that is at least ``value`` (at least 1): the top of the scale."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return int(step * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def text_width(text: str, font_size: float = FONT_SIZE) -> float:
    """An estimate of a label's width: a CJK character is about a font size wide, others about 0.6 of it."""
    return sum(font_size if ord(char) >= 0x2E80 else 0.6 * font_size for char in text)


def _number(value: float) -> str:
    """Coordinates with at most two decimals and no trailing zeros: short, stable output."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def bar_chart(
    bars: Sequence[tuple[str, int | None]],
    *,
    title: str,
    description: str = "",
    gap_text: str = "no record",
    css_class: str = "chart",
) -> SafeString:
    """An SVG bar chart of ``bars``, a list of ``(label, value)`` in the order shown (values
    are counts: whole numbers, zero or more).

    Guarantees: a value of ``None`` is a gap (a pale full-height band titled ``gap_text``),
    not a zero; a zero has no bar; every bar and gap carries a ``<title>`` "label: value"
    (the tooltip, and what assistive technology reads); the chart is ``role="img"`` with the
    title as its ``aria-label`` and its ``<title>``, and ``description`` as its ``<desc>``;
    labels under the axis are thinned so that they never overlap; everything taken from the
    arguments is escaped. An empty list gives a chart with axes only.
    """
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    baseline = MARGIN_TOP + plot_height
    values = [value for _label, value in bars if value is not None]
    top = nice_ceiling(max(values, default=0))
    slot = plot_width / len(bars) if bars else plot_width
    bar_width = min(slot * 0.8, MAX_BAR_WIDTH)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-label="{escape(title)}" font-size="{FONT_SIZE}" fill="{TEXT_COLOUR}">',
        f"<title>{escape(title)}</title>",
    ]
    if description:
        parts.append(f"<desc>{escape(description)}</desc>")

    # The scale: lines at zero, half (when a whole number) and the top, labelled on the left.
    ticks = [0, top] if top % 2 else [0, top // 2, top]
    for tick in ticks:
        y = baseline - plot_height * tick / top
        parts.append(
            f'<line x1="{MARGIN_LEFT}" y1="{_number(y)}" x2="{WIDTH - MARGIN_RIGHT}" y2="{_number(y)}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
            f'<text x="{MARGIN_LEFT - 4}" y="{_number(y + FONT_SIZE / 3)}" text-anchor="end">{tick}</text>'
        )

    for index, (label, value) in enumerate(bars):
        x = MARGIN_LEFT + slot * index
        if value is None:
            parts.append(
                f'<g class="gap"><title>{escape(label)}: {escape(gap_text)}</title>'
                f'<rect x="{_number(x)}" y="{MARGIN_TOP}" width="{_number(slot)}" height="{plot_height}" '
                f'fill="{GAP_COLOUR}"/></g>'
            )
            continue
        if value == 0:
            parts.append(f'<g class="bar zero"><title>{escape(label)}: 0</title></g>')
            continue
        height = plot_height * value / top
        parts.append(
            f'<g class="bar"><title>{escape(label)}: {value}</title>'
            f'<rect x="{_number(x + (slot - bar_width) / 2)}" y="{_number(baseline - height)}" '
            f'width="{_number(bar_width)}" height="{_number(height)}" fill="{BAR_COLOUR}"/></g>'
        )

    # Labels under the axis: every n-th, n chosen so that the widest label fits in its share.
    if bars:
        widest = max(text_width(label) for label, _value in bars) + 4
        every = max(1, math.ceil(widest / slot))
        right_of_last = -math.inf
        for index in range(0, len(bars), every):
            # Centred under its bar, but kept inside the drawing at both ends; a label pushed
            # back from the right end onto the one before it is left out.
            half = text_width(bars[index][0]) / 2
            x = min(max(MARGIN_LEFT + slot * (index + 0.5), half), WIDTH - half)
            if x - half < right_of_last + 2:
                continue
            right_of_last = x + half
            parts.append(
                f'<text x="{_number(x)}" y="{baseline + FONT_SIZE + 4}" text-anchor="middle">'
                f"{escape(bars[index][0])}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every piece taken from the arguments is escaped above

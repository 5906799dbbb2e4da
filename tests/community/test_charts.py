"""The app's SVG bar chart: well-formed, accessible, scaled, gaps apart from zeros, labels
that never overlap, and data kept as text."""

import xml.etree.ElementTree as ET

import pytest

from community.charts import (
    BAR_COLOUR,
    GAP_COLOUR,
    HEIGHT,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    WIDTH,
    bar_chart,
    nice_ceiling,
    text_width,
)

SVG = "{http://www.w3.org/2000/svg}"
PLOT_HEIGHT = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
BASELINE = MARGIN_TOP + PLOT_HEIGHT


def parse(svg):
    return ET.fromstring(str(svg))


def groups(root, kind):
    return [g for g in root.iter(f"{SVG}g") if g.get("class", "").split()[0] == kind]


def axis_labels(root):
    return [(float(t.get("x")), t.text) for t in root.findall(f"{SVG}text") if t.get("text-anchor") == "middle"]


@pytest.mark.parametrize(("value", "expected"), [
    (0, 1), (0.5, 1), (1, 1), (2, 2), (3, 5), (7, 10), (10, 10), (11, 20), (120, 200), (499, 500), (501, 1000),
])
def test_nice_ceiling(value, expected):
    assert nice_ceiling(value) == expected


def test_bar_chart_is_an_accessible_svg_that_fills_its_box():
    root = parse(bar_chart([("2018-01", 3)], title="每月消息", description="共 3 条"))

    assert root.tag == f"{SVG}svg"
    assert (root.get("viewBox"), root.get("width"), root.get("height")) == (f"0 0 {WIDTH} {HEIGHT}", "100%", None)
    assert (root.get("role"), root.get("aria-label")) == ("img", "每月消息")
    assert (root.find(f"{SVG}title").text, root.find(f"{SVG}desc").text) == ("每月消息", "共 3 条")


def test_bar_chart_bars_are_scaled_to_a_round_top_with_a_title_each():
    root = parse(bar_chart([("一月", 5), ("二月", 10), ("三月", 2)], title="t"))

    bars = groups(root, "bar")
    assert [g.find(f"{SVG}title").text for g in bars] == ["一月: 5", "二月: 10", "三月: 2"]
    heights = [float(g.find(f"{SVG}rect").get("height")) for g in bars]
    assert heights == [PLOT_HEIGHT / 2, PLOT_HEIGHT, PLOT_HEIGHT / 5]
    assert [float(g.find(f"{SVG}rect").get("y")) + h for g, h in zip(bars, heights, strict=True)] == [BASELINE] * 3
    assert {g.find(f"{SVG}rect").get("fill") for g in bars} == {BAR_COLOUR}
    # The scale on the left: 0, 5 and 10.
    assert [t.text for t in root.findall(f"{SVG}text") if t.get("text-anchor") == "end"] == ["0", "5", "10"]


def test_bar_chart_shows_a_gap_apart_from_a_zero():
    root = parse(bar_chart([("2018-01-01", 4), ("2018-01-02", 0), ("2018-01-03", None)], title="t", gap_text="无记录"))

    zero = [g for g in groups(root, "bar") if "zero" in g.get("class")]
    gaps = groups(root, "gap")
    assert [(g.find(f"{SVG}title").text, g.find(f"{SVG}rect")) for g in zero] == [("2018-01-02: 0", None)]
    assert [g.find(f"{SVG}title").text for g in gaps] == ["2018-01-03: 无记录"]
    gap_rect = gaps[0].find(f"{SVG}rect")
    assert (gap_rect.get("fill"), float(gap_rect.get("y")), float(gap_rect.get("height"))) == (
        GAP_COLOUR, MARGIN_TOP, PLOT_HEIGHT)


def test_bar_chart_of_nothing_recorded_has_axes_only():
    root = parse(bar_chart([("2018-01-01", None), ("2018-01-02", None)], title="t"))

    assert (len(groups(root, "bar")), len(groups(root, "gap"))) == (0, 2)
    assert [t.text for t in root.findall(f"{SVG}text") if t.get("text-anchor") == "end"] == ["0", "1"]
    assert parse(bar_chart([], title="空")).find(f"{SVG}title").text == "空"


def test_bar_chart_labels_every_bar_when_they_fit():
    root = parse(bar_chart([(str(month), month) for month in range(1, 13)], title="t"))

    assert [text for _x, text in axis_labels(root)] == [str(month) for month in range(1, 13)]


def test_bar_chart_labels_every_other_hour_of_a_day():
    root = parse(bar_chart([(str(hour), hour) for hour in range(24)], title="t"))

    assert [text for _x, text in axis_labels(root)] == [str(hour) for hour in range(0, 24, 2)]


def test_bar_chart_thins_labels_that_would_overlap_and_keeps_them_inside():
    days = [(f"2018-01-{day:02d}", day) for day in range(1, 32)]

    labels = axis_labels(parse(bar_chart(days, title="t")))

    assert 1 < len(labels) < 31
    assert labels[0][1] == "2018-01-01"
    width = text_width("2018-01-01")
    assert all(later - earlier >= width for (earlier, _a), (later, _b) in zip(labels, labels[1:], strict=False))
    assert all(width / 2 <= x <= WIDTH - width / 2 for x, _text in labels)


def test_bar_chart_drops_a_label_the_right_end_would_push_onto_another():
    days = [(f"d{n:09d}", n) for n in range(91)]  # as wide as "2018-06-30"

    labels = axis_labels(parse(bar_chart(days, title="t")))

    width = text_width("d000000000")
    # Every 21st bar is labelled; the 85th's label, pushed back from the right end, would overlap the 64th's.
    assert [text for _x, text in labels] == ["d000000000", "d000000021", "d000000042", "d000000063"]
    assert all(later - earlier >= width for (earlier, _a), (later, _b) in zip(labels, labels[1:], strict=False))


def test_bar_chart_escapes_labels_title_and_description():
    attack = '<script>alert(1)</script>"'

    svg = str(bar_chart([(attack, 1), (attack, None)], title=attack, description=attack, gap_text=attack))

    assert "<script>" not in svg
    # aria-label, title, desc, the bar's tooltip, the gap's tooltip (label and gap text), one axis label
    # (the second, as wide, does not fit beside it)
    assert svg.count("&lt;script&gt;alert(1)&lt;/script&gt;&quot;") == 7
    root = parse(svg)
    assert root.get("aria-label") == attack
    assert groups(root, "bar")[0].find(f"{SVG}title").text == f"{attack}: 1"

"""Hand-written SVG figures (no plotting dependency, inline in the page under the strict CSP): score
histograms, facility against discrimination, misconception bars. Every text is escaped; each figure has a
title and a description for screen readers, and the numbers stay in the tables beside it."""
from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BLUE, RED, GREEN, GREY, INK, LIGHT = "#2f6db5", "#c0392b", "#2e8b57", "#8a94a6", "#1f2933", "#e4e8ee"
FONT = 'font-family="system-ui, sans-serif"'


def _svg(width: int, height: int, title: str, body: list[str], css_class: str = "plot") -> SafeString:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label="{escape(title)}" {FONT} font-size="12">')
    return mark_safe(head + f"<title>{escape(title)}</title>" + "".join(body) + "</svg>")


def _text(x: float, y: float, text: Any, *, anchor: str = "start", size: int = 12, fill: str = INK,
          weight: str = "normal", rotate: bool = False) -> str:
    transform = f' transform="rotate(-90 {x:.1f} {y:.1f})"' if rotate else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" '
            f'font-weight="{weight}"{transform}>{escape(str(text))}</text>')


def _nice_max(value: float) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if value <= step * 5:
            return step * 5
    return int(value) + 1


def histogram(series: list[tuple[str, list[int], str]], *, title: str, xlabel: str = "score (%)") -> SafeString:
    """Stacked histogram of 10 bins over 0-100 %; `series` = [(name, counts, colour)]."""
    width, height, left, right, bottom = 480, 290, 44, 12, 46
    top = 52 if len(series) > 1 else 34
    bins = len(series[0][1]) if series else 10
    stacked = [sum(counts[i] for _, counts, _ in series) for i in range(bins)]
    y_max = _nice_max(max(stacked + [1]))
    plot_w, plot_h = width - left - right, height - top - bottom
    bar_w = plot_w / bins
    body = [_text(left, 20, title, size=14, weight="bold")]
    for tick in range(0, 6):
        value = y_max * tick / 5
        y = top + plot_h - plot_h * tick / 5
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LIGHT}"/>')
        body.append(_text(left - 6, y + 4, f"{value:g}", anchor="end", fill=GREY))
    for i in range(bins):
        base = 0
        for name, counts, colour in series:
            count = counts[i]
            if count:
                h = plot_h * count / y_max
                y = top + plot_h - plot_h * (base + count) / y_max
                body.append(f'<rect x="{left + i * bar_w + 2:.1f}" y="{y:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" '
                            f'fill="{colour}"><title>{escape(name)}: {count} in {i * 10}–{(i + 1) * 10}%</title></rect>')
            base += count
        if stacked[i]:
            body.append(_text(left + (i + 0.5) * bar_w, top + plot_h - plot_h * stacked[i] / y_max - 4, stacked[i],
                              anchor="middle", size=11))
    for i in range(bins + 1):
        body.append(_text(left + i * bar_w, top + plot_h + 16, i * 100 // bins, anchor="middle", fill=GREY))
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{INK}"/>')
    body.append(_text(left + plot_w / 2, height - 12, xlabel, anchor="middle"))
    body.append(_text(14, top + plot_h / 2, "students", anchor="middle", rotate=True))
    if len(series) > 1:  # the legend, on its own line under the title
        x = left
        for name, _, colour in series:
            body.append(f'<rect x="{x:.1f}" y="29" width="11" height="11" fill="{colour}"/>')
            body.append(_text(x + 15, 39, name, size=11))
            x += 15 + 6.2 * len(name) + 18
    return _svg(width, height, title, body)


def scatter(points: list[dict[str, Any]], *, title: str) -> SafeString:
    """Facility (x, 0-100 %) against discrimination index (y, -100..100); flagged points in red."""
    width, height, left, right, top, bottom = 480, 330, 48, 14, 34, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    ys = [p["y"] for p in points if p.get("y") is not None]
    y_low = -100 if any(y < -50 for y in ys) else -50
    y_high = 100

    def px(x: float) -> float:
        return left + plot_w * x / 100.0

    def py(y: float) -> float:
        return top + plot_h * (y_high - y) / (y_high - y_low)

    body = [_text(left, 20, title, size=14, weight="bold")]
    # The region where a question does its job: facility 10-90 %, discrimination at least 20.
    body.append(f'<rect x="{px(10):.1f}" y="{py(y_high):.1f}" width="{px(90) - px(10):.1f}" '
                f'height="{py(20) - py(y_high):.1f}" fill="#eaf4ec"/>')
    for tick in range(0, 101, 20):
        body.append(f'<line x1="{px(tick):.1f}" x2="{px(tick):.1f}" y1="{top}" y2="{top + plot_h}" stroke="{LIGHT}"/>')
        body.append(_text(px(tick), top + plot_h + 16, tick, anchor="middle", fill=GREY))
    for tick in range(y_low, y_high + 1, 25 if y_low == -50 else 50):
        colour = INK if tick == 0 else LIGHT
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" stroke="{colour}"/>')
        body.append(_text(left - 6, py(tick) + 4, tick, anchor="end", fill=GREY))
    body.append(f'<line x1="{left}" x2="{width - right}" y1="{py(20):.1f}" y2="{py(20):.1f}" stroke="{GREEN}" '
                f'stroke-dasharray="4 3"/>')
    body.append(_text(width - right - 4, py(20) - 4, "discrimination 20", anchor="end", size=10, fill=GREEN))
    for point in points:
        if point.get("x") is None or point.get("y") is None:
            continue
        colour = RED if point.get("flagged") else BLUE
        x, y = px(point["x"]), py(max(y_low, min(y_high, point["y"])))
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colour}" fill-opacity="0.85">'
                    f'<title>{escape(point["label"])}: facility {point["x"]:.0f}%, discrimination {point["y"]:.0f}'
                    f'</title></circle>')
        body.append(_text(x + 9, y + 4, point["label"], size=11, fill=colour))
    body.append(_text(left + plot_w / 2, height - 12, "facility index (% right)", anchor="middle"))
    body.append(_text(14, top + plot_h / 2, "discrimination index", anchor="middle", rotate=True))
    return _svg(width, height, title, body)


def bars(rows: list[dict[str, Any]], *, title: str, note: str = "") -> SafeString:
    """Horizontal bars, one per named misconception: the share of the class (0-100 %) that showed it."""
    longest = max([len(row["name"]) for row in rows] + [8])
    label_w, width, row_h, top = min(220, 16 + int(6.6 * min(longest, 32))), 440, 26, 40 if note else 30
    height = top + row_h * max(1, len(rows)) + 12
    plot_w = width - label_w - 48
    body = [_text(4, 18, title, size=14, weight="bold")]
    if note:
        body.append(_text(4, 34, note, size=11, fill=GREY))
    if not rows:
        body.append(_text(4, top + 16, "No named misconception was shown.", fill=GREY))
    for i, row in enumerate(rows):
        y = top + i * row_h
        name = row["name"] if len(row["name"]) <= 32 else row["name"][:31] + "…"
        body.append(_text(label_w - 8, y + 17, name, anchor="end"))
        body.append(f'<rect x="{label_w}" y="{y + 5}" width="{plot_w}" height="{row_h - 10}" fill="{LIGHT}"/>')
        w = plot_w * min(100.0, row["share"]) / 100.0
        body.append(f'<rect x="{label_w}" y="{y + 5}" width="{w:.1f}" height="{row_h - 10}" fill="{row.get("colour", RED)}">'
                    f'<title>{escape(row["name"])}: {row["count"]} of {row.get("n", "")} ({row["share"]:.0f}%)</title></rect>')
        body.append(_text(label_w + w + 6, y + 17, f'{row["share"]:.0f}%', weight="bold"))
    return _svg(width, height, title, body, css_class="plot bars")

"""Charts as inline SVG, drawn here: the Replication page loads nothing from elsewhere (no
CDN, no script), so it works where the Airflow UI has no internet. Every label is escaped;
names come from databases."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip
WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 640, 220, 64, 28, 12, 150


def _ticks(top: float) -> list[float]:
    """Round steps from 0 to at least `top`: at most 6 gridlines."""
    if top <= 0:
        return [0.0, 1.0]
    magnitude = 10 ** math.floor(math.log10(top / 5))
    step = next(magnitude * f for f in (1, 2, 2.5, 5, 10) if top / (magnitude * f) <= 5)
    return [i * step for i in range(math.ceil(top / step) + 1)]


def _label(value: float) -> str:
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:g}{unit}"
    return f"{value:g}"


def line_chart(title: str, runs: Sequence[str], series: Mapping[str, Sequence[float | None]],
               unit: str) -> str:  # fmt: skip
    """One line per series over `runs` (oldest first); a gap where a run has no value."""
    values = [v for vs in series.values() for v in vs if v is not None]
    if not runs or not values:
        return f'<p class="empty">{escape(title)}: no runs with figures yet</p>'
    ticks = _ticks(max(values))
    top, plot_w, plot_h = ticks[-1], WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    x = (lambda i: LEFT + plot_w / 2) if len(runs) == 1 else (
        lambda i: LEFT + i * plot_w / (len(runs) - 1))  # fmt: skip

    def y(v: float) -> float:
        return TOP + plot_h - v / top * plot_h

    out = [f'<figure><figcaption>{escape(title)}</figcaption>'
           f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'width="{WIDTH}" height="{HEIGHT}">']  # fmt: skip
    for t in ticks:
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
                   f'stroke="#ddd"/><text x="{LEFT - 6}" y="{y(t) + 4:.1f}" font-size="11" '
                   f'text-anchor="end">{_label(t)}</text>')  # fmt: skip
    out.append(f'<text x="4" y="{TOP + 10}" font-size="11">{escape(unit)}</text>')
    for n, (name, vs) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        points = [(x(i), y(v)) for i, v in enumerate(vs) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                       f'points="{path}"/>')  # fmt: skip
        for (px, py), v in zip(points, [v for v in vs if v is not None]):
            out.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)}: {v:,.0f} {escape(unit)}</title></circle>"
            )
        ly = TOP + 12 + n * 14
        out.append(f'<rect x="{WIDTH - RIGHT + 10}" y="{ly - 9}" width="10" height="10" '
                   f'fill="{colour}"/><text x="{WIDTH - RIGHT + 24}" y="{ly}" font-size="11">'
                   f"{escape(name)}</text>")  # fmt: skip
    out.append(f'<text x="{LEFT}" y="{HEIGHT - 8}" font-size="11">{escape(runs[0])}</text>')
    if len(runs) > 1:
        out.append(f'<text x="{LEFT + plot_w}" y="{HEIGHT - 8}" font-size="11" '
                   f'text-anchor="end">{escape(runs[-1])}</text>')  # fmt: skip
    return "".join(out) + "</svg></figure>"


def bar_chart(title: str, bars: Sequence[tuple[str, float | None, bool]], unit: str) -> str:
    """Horizontal bars: (label, value, within its limit); a bar without a value says never."""
    if not bars:
        return f'<p class="empty">{escape(title)}: nothing yet</p>'
    known = [v for _, v, _ in bars if v is not None] or [1.0]
    ticks = _ticks(max(known))
    top, row, left = ticks[-1], 24, 260
    height = TOP + row * len(bars) + BOTTOM
    plot_w = WIDTH - left - 20
    out = [f'<figure><figcaption>{escape(title)}</figcaption>'
           f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" '
           f'width="{WIDTH}" height="{height}">']  # fmt: skip
    for i, (label, value, fine) in enumerate(bars):
        y = TOP + i * row
        out.append(f'<text x="{left - 6}" y="{y + 15}" font-size="11" text-anchor="end">'
                   f"{escape(label)}</text>")  # fmt: skip
        if value is None:
            out.append(f'<text x="{left + 4}" y="{y + 15}" font-size="11">never verified</text>')
            continue
        w = max(1.0, value / top * plot_w)
        colour = "#2ca02c" if fine else "#d62728"
        out.append(f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="{row - 8}" '
                   f'fill="{colour}"><title>{escape(label)}: {value:,.0f} {escape(unit)}'
                   f"</title></rect>")  # fmt: skip
    for t in ticks:
        tx = left + t / top * plot_w
        out.append(f'<text x="{tx:.1f}" y="{height - 8}" font-size="11" '
                   f'text-anchor="middle">{_label(t)}</text>')  # fmt: skip
    return "".join(out) + "</svg></figure>"

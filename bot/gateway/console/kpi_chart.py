"""Server-side SVG charts for the KPI dashboard (no script, no CDN): a rate per day, 0-100% (line_chart), and
one figure per segment, campaign or channel (bar_chart)."""

from __future__ import annotations

from datetime import date
from html import escape

WIDTH, HEIGHT, PAD = 320, 120, 24


def line_chart(title: str, series: list[tuple[date, float | None]]) -> str:
    """An accessible SVG: role img with a title; days without data leave a gap in the line."""
    n = max(1, len(series) - 1)
    points: list[list[str]] = [[]]
    dots = ""
    for i, (day, rate) in enumerate(series):
        if rate is None:
            points.append([])
            continue
        x = PAD + i * (WIDTH - 2 * PAD) / n
        y = HEIGHT - PAD - rate * (HEIGHT - 2 * PAD)
        points[-1].append(f"{x:.1f},{y:.1f}")
        # Each day's value on hover (and to a screen reader), so the line can be read, not only seen.
        dots += (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#1f5fa8"><title>{day.isoformat()}: '
                 f'{rate * 100:.1f}%</title></circle>')
    lines = "".join(f'<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{" ".join(p)}"/>'
                    for p in points if len(p) > 1)
    first = series[0][0].isoformat() if series else ""
    last = series[-1][0].isoformat() if series else ""
    return (f'<svg class="chart" role="img" aria-label="{escape(title)} per day" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'width="{WIDTH}" height="{HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
            f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>'
            f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>'
            f'<text x="2" y="{PAD + 4}" font-size="9">100%</text><text x="8" y="{HEIGHT - PAD}" font-size="9">0%'
            f'</text><text x="{PAD}" y="{HEIGHT - 6}" font-size="9">{first}</text>'
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 6}" font-size="9" text-anchor="end">{last}</text>'
            f'{lines}{dots}</svg>')


BAR_WIDTH, BAR_ROW, BAR_LABEL = 560, 22, 230


def shortened(label: str, limit: int = 38) -> str:
    """A label that fits beside its bar: cut at a word, with an ellipsis (the bar's tooltip has it whole)."""
    if len(label) <= limit:
        return label
    cut = label[: limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut).rstrip(" ,;:(") + "…"


def bar_chart(title: str, rows: list[tuple[str, float | None]], *, percent: bool = True) -> str:
    """Horizontal bars, one per group, each labelled with its value (or "no data"); an x axis from 0 to the top
    value (100% for rates), with its ends marked. Accessible: role img, a title, and the values as text."""
    top = 1.0 if percent else max([v for _, v in rows if v is not None] or [1.0]) or 1.0
    plot = BAR_WIDTH - BAR_LABEL - 70
    height = BAR_ROW * len(rows) + 30
    parts = []
    for i, (label, value) in enumerate(rows):
        y = 6 + i * BAR_ROW
        shown = "no data" if value is None else (f"{value * 100:.1f}%" if percent else f"{value:,.0f}")
        width = 0 if value is None else max(1.0, value / top * plot)
        parts.append(f'<text x="{BAR_LABEL - 6}" y="{y + 13}" font-size="11" text-anchor="end">'
                     f'{escape(shortened(label))}</text>'
                     f'<rect x="{BAR_LABEL}" y="{y + 2}" width="{width:.1f}" height="{BAR_ROW - 8}" fill="#1f5fa8">'
                     f'<title>{escape(label)}: {shown}</title></rect>'
                     f'<text x="{BAR_LABEL + width + 4:.1f}" y="{y + 13}" font-size="11">{shown}</text>')
    axis_y = 6 + len(rows) * BAR_ROW
    end_label = "100%" if percent else f"{top:,.0f}"
    return (f'<svg class="chart bars" role="img" aria-label="{escape(title)}" viewBox="0 0 {BAR_WIDTH} {height}" '
            f'width="{BAR_WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
            f'{"".join(parts)}'
            f'<line x1="{BAR_LABEL}" y1="{axis_y}" x2="{BAR_LABEL + plot}" y2="{axis_y}" stroke="#888"/>'
            f'<line x1="{BAR_LABEL}" y1="2" x2="{BAR_LABEL}" y2="{axis_y}" stroke="#888"/>'
            f'<text x="{BAR_LABEL}" y="{axis_y + 14}" font-size="10" text-anchor="middle">0</text>'
            f'<text x="{BAR_LABEL + plot}" y="{axis_y + 14}" font-size="10" text-anchor="middle">{end_label}</text>'
            f'</svg>')

"""Server-side SVG line charts for the KPI dashboard (no script, no CDN): a rate per day, 0-100%."""

from __future__ import annotations

from datetime import date
from html import escape

WIDTH, HEIGHT, PAD = 320, 120, 24


def line_chart(title: str, series: list[tuple[date, float | None]]) -> str:
    """An accessible SVG: role img with a title; days without data leave a gap in the line."""
    n = max(1, len(series) - 1)
    points: list[list[str]] = [[]]
    for i, (_day, rate) in enumerate(series):
        if rate is None:
            points.append([])
            continue
        x = PAD + i * (WIDTH - 2 * PAD) / n
        y = HEIGHT - PAD - rate * (HEIGHT - 2 * PAD)
        points[-1].append(f"{x:.1f},{y:.1f}")
    lines = "".join(f'<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{" ".join(p)}"/>'
                    for p in points if len(p) > 1)
    dots = "".join(f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="2.5" fill="#1f5fa8"/>'
                   for group in points for p in group)
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

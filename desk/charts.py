"""Small SVG charts drawn on the server: no script, no CDN, and they print."""

from __future__ import annotations

from html import escape

WIDTH, HEIGHT, PAD = 560, 180, 32


def bars(title: str, labels: list[str], values: list[float | None], percent: bool) -> str:
    """A bar chart with the value over each bar; missing values leave a gap."""
    top = max([v for v in values if v is not None] + [1.0 if percent else 1e-9])
    top = 1.0 if percent else top
    count = max(len(values), 1)
    step = (WIDTH - 2 * PAD) / count
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{PAD}" y="14" class="chart-title">{escape(title)}</text>',
             f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
             'stroke="#9aa5b1"/>']
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = PAD + index * step + step * 0.15
        if value is not None:
            height = (HEIGHT - 2 * PAD - 10) * (value / top if top else 0)
            y = HEIGHT - PAD - height
            text = f"{value * 100:.0f}%" if percent else f"{value:g}"
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" '
                         f'height="{height:.1f}" fill="#1f6f5c"/>')
            parts.append(f'<text x="{x + step * 0.35:.1f}" y="{y - 3:.1f}" '
                         f'text-anchor="middle" class="chart-value">{text}</text>')
        if count <= 16 or index % max(count // 8, 1) == 0:
            parts.append(f'<text x="{x + step * 0.35:.1f}" y="{HEIGHT - PAD + 14}" '
                         f'text-anchor="middle" class="chart-label">{escape(label[-5:])}</text>')
    parts.append("</svg>")
    return "".join(parts)

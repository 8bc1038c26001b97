"""Small bar charts drawn on the server as inline SVG: no JavaScript, no library, no CDN.

Each chart is an `<svg role="img">` named by its `<title>` and `<desc>` (read by screen readers
through `aria-labelledby`); the page shows the same numbers in a table beside it. Every text is
escaped (`format_html`), so a product or store name cannot inject markup.
"""

from decimal import Decimal

from django.utils.html import format_html, format_html_join

BAR = "#2e7d5b"
TEXT = "currentColor"


def _scale(values):
    top = max((Decimal(value) for value in values), default=Decimal(0))
    return top if top > 0 else Decimal(1)


def _frame(chart_id, title, description, width, height, body):
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        'aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" width="{w}" height="{h}">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        id=chart_id,
        w=width,
        h=height,
        title=title,
        desc=description,
        body=body,
    )


def bar_chart(*, chart_id, title, description, rows):
    """Horizontal bars, one per row (label, value, text shown after the bar)."""
    label_width, bar_width, text_width, row_height = 190, 320, 110, 26
    top = _scale(value for _label, value, _text in rows)
    height = max(len(rows), 1) * row_height + 8
    items = []
    for index, (label, value, text) in enumerate(rows):
        y = 4 + index * row_height
        length = int(Decimal(value) / top * bar_width) if value else 0
        items.append(
            (
                label_width - 8,
                y + 17,
                label,
                label_width,
                y + 4,
                length,
                row_height - 8,
                BAR,
                label_width + length + 6,
                y + 17,
                text,
            )
        )
    body = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end" font-size="13" fill="' + TEXT + '">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>'
        '<text x="{}" y="{}" font-size="13" fill="' + TEXT + '">{}</text>',
        items,
    )
    return _frame(chart_id, title, description, label_width + bar_width + text_width, height, body)


def column_chart(*, chart_id, title, description, columns, every=1, top_text=""):
    """Vertical columns over time, one per column (label, value); every `every`-th label shown;
    `top_text` (the highest value, as read) written at the top of the scale."""
    left, column_width, chart_height, bottom = 10, 22, 160, 24
    top = _scale(value for _label, value in columns)
    width = left * 2 + max(len(columns), 1) * column_width
    items = []
    for index, (label, value) in enumerate(columns):
        x = left + index * column_width
        length = int(Decimal(value) / top * chart_height) if value else 0
        shown = label if index % every == 0 else ""
        items.append(
            (x + 2, 8 + chart_height - length, column_width - 4, length, BAR, x + column_width // 2, shown)
        )
    body = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>'
        '<text x="{}" y="' + str(8 + chart_height + 16) + '" text-anchor="middle" font-size="11" '
        'fill="' + TEXT + '">{}</text>',
        items,
    )
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="currentColor" stroke-width="1"></line>',
        left,
        8 + chart_height,
        width - left,
        8 + chart_height,
    )
    scale = format_html('<text x="{}" y="10" font-size="11" fill="{}">{}</text>', left, TEXT, top_text)
    scale = scale if top_text else ""
    height = 8 + chart_height + bottom
    return _frame(chart_id, title, description, width, height, format_html("{}{}{}", axis, scale, body))

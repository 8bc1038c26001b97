"""What the storefront tests read of a page and of its queries."""

import re


def store_menu(menu_page):
    """The address of Vaise's menu."""
    return f"{menu_page.url}pizzeria/vaise/"


def card_of(html, slug):
    """The whole card (its `<li>`) of the product `slug`."""
    start = html.index(f'data-product="{slug}"')
    return html[html.rindex("<li", 0, start) : html.index("</div>\n</li>", start)]


def tables_touched(queries):
    """Every table each of `queries` names after FROM or JOIN (a hand-written read joins several,
    or unites two with UNION ALL), in order."""
    return [table for query in queries for table in re.findall(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', query["sql"])]

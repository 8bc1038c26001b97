"""What the store menu tests read of a page."""


def store_menu(menu_page):
    """The address of Vaise's menu."""
    return f"{menu_page.url}pizzeria/vaise/"


def card_of(html, slug):
    """The whole card (its `<li>`) of the product `slug`."""
    start = html.index(f'data-product="{slug}"')
    return html[html.rindex("<li", 0, start) : html.index("</div>\n</li>", start)]

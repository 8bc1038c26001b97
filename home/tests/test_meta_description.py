"""Every page carries a meta description: its own search description, else the brand's."""

import re

from wagtail.models import Site

from home.models import BrandSettings

from .factories import StandardPageFactory

DEFAULT = "OC Pizza : pizzas artisanales à Lyon, livrées chez vous ou à emporter dans nos pizzerias."


def description(client, url):
    html = client.get(url).content.decode()
    found = re.findall(r'<meta name="description" content="([^"]*)">', html)
    assert len(found) == 1, found
    return found[0]


def test_a_page_with_its_own_search_description_shows_it(client, home_page):
    page = StandardPageFactory(
        parent=home_page,
        title="Mentions légales",
        slug="mentions",
        search_description="Qui édite oc-pizza.fr.",
    )

    assert description(client, page.url) == "Qui édite oc-pizza.fr."


def test_a_page_without_one_falls_back_to_the_brand_tagline(client, home_page):
    settings = BrandSettings.for_site(Site.objects.get(is_default_site=True))
    settings.tagline = "Les pizzas lyonnaises au feu de bois"
    settings.save()
    page = StandardPageFactory(parent=home_page, title="Mentions légales", slug="mentions")

    assert description(client, page.url) == "Les pizzas lyonnaises au feu de bois"


def test_without_a_tagline_the_default_description_is_used(client, home_page):
    page = StandardPageFactory(parent=home_page, title="Mentions légales", slug="mentions")

    assert description(client, page.url) == DEFAULT

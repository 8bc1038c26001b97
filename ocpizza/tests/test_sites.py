"""The site a page is drawn for, read in one query with its root page, brand settings and the paths
under a view restriction (ocpizza/sites.py), finds what Wagtail's own lookup finds and still
honours every restriction, including one added after the page was drawn."""

import itertools

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.models.sites import get_site_for_hostname

from home.models import BrandSettings, HomePage
from home.tests.factories import StandardPageFactory
from menu.tests.factories import ProductPageFactory
from ocpizza.sites import match_site, read_sites, root_paths

pytestmark = pytest.mark.django_db

PASSWORD_FORM = "wagtailcore/password_required.html"

# (hostname, port, is_default_site) of the sites of each configuration.
CONFIGURATIONS = [
    [("oc-pizza.fr", 443, True)],
    [("oc-pizza.fr", 443, True), ("staging.oc-pizza.fr", 80, False)],
    [("oc-pizza.fr", 443, True), ("oc-pizza.fr", 8080, False)],
    [("oc-pizza.fr", 443, False), ("oc-pizza.fr", 8080, False), ("autre.fr", 80, True)],
    [("oc-pizza.fr", 443, False), ("staging.oc-pizza.fr", 80, False)],
    [("oc-pizza.fr", 443, False), ("autre.fr", 80, True), ("staging.oc-pizza.fr", 80, False)],
]
HOSTNAMES = ["oc-pizza.fr", "staging.oc-pizza.fr", "autre.fr", "inconnu.fr"]
HOSTS = list(itertools.product(HOSTNAMES, [80, 443, 8080]))


def make_sites(configuration):
    Site.objects.all().delete()
    root = Page.get_first_root_node()
    for hostname, port, is_default in configuration:
        Site.objects.create(hostname=hostname, port=port, is_default_site=is_default, root_page=root)


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_the_site_found_is_the_one_wagtail_finds(configuration):
    make_sites(configuration)
    sites = read_sites()

    for hostname, port in HOSTS:
        try:
            expected = get_site_for_hostname(hostname, port).pk
        except Site.DoesNotExist:
            expected = None
        found = match_site(sites, hostname, port)
        assert (found.pk if found else None) == expected, (configuration, hostname, port)


@pytest.mark.parametrize("configuration", CONFIGURATIONS)
def test_the_root_paths_are_wagtails(configuration):
    make_sites(configuration)
    cache.clear()

    assert root_paths(read_sites()) == Site.get_site_root_paths()


def test_the_site_its_home_page_and_brand_settings_are_one_query(home_page):
    site = Site.objects.get(is_default_site=True)
    BrandSettings.objects.create(site=site, tagline="Pizzas de Lyon")

    with CaptureQueriesContext(connection) as queries:
        (found,) = read_sites()
        home, tagline = found.root_page, found.brandsettings.tagline

    assert len(queries.captured_queries) == 1
    assert type(home) is HomePage and home.pk == home_page.pk and home.specific is home
    assert tagline == "Pizzas de Lyon"
    assert home.restricted_paths == frozenset()


def test_a_site_without_brand_settings_gets_them_on_its_first_page(home_page):
    response = Client().get("/?vu=1")

    assert response.status_code == 200
    assert BrandSettings.objects.filter(site__is_default_site=True).count() == 1


def restrict(page):
    return PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )


def templates(url):
    """The templates of a drawing that passes the page cache by (a query string), as a visitor
    with a cart or an account: the site, its pages and their restrictions are kept."""
    response = Client().get(url)
    assert response.status_code == 200, url
    return [template.name for template in response.templates]


def test_an_unrestricted_page_reads_no_restriction(home_page):
    legal = StandardPageFactory(parent=home_page, slug="mentions")
    restrict(StandardPageFactory(parent=home_page, slug="voisine"))

    with CaptureQueriesContext(connection) as queries:
        assert PASSWORD_FORM not in templates(f"{legal.url}?vu=1")

    restrictions_read = '"wagtailcore_pageviewrestriction"."restriction_type"'  # not the paths' subquery
    assert not [query for query in queries.captured_queries if restrictions_read in query["sql"]]


def test_a_restriction_added_after_a_page_was_drawn_applies_to_the_next_drawing(home_page):
    legal = StandardPageFactory(parent=home_page, slug="mentions")
    assert PASSWORD_FORM not in templates(f"{legal.url}?vu=1")
    assert PASSWORD_FORM not in templates(f"{legal.url}?vu=2")  # drawn from what was kept

    restrict(legal)

    assert PASSWORD_FORM in templates(f"{legal.url}?vu=3")


def test_a_restriction_added_on_an_ancestor_applies_to_the_next_drawing(home_page, menu_page):
    product = ProductPageFactory(parent=menu_page, slug="margherita")
    assert PASSWORD_FORM not in templates(f"{product.url}?vu=1")
    assert PASSWORD_FORM not in templates(f"{product.url}?vu=2")

    restrict(menu_page)

    assert PASSWORD_FORM in templates(f"{product.url}?vu=3")
    assert PASSWORD_FORM in templates(f"{menu_page.url}?vu=3")


def test_a_restriction_added_on_the_source_of_an_alias_applies_to_the_alias(home_page):
    source = StandardPageFactory(parent=home_page, slug="source")
    alias = source.create_alias(parent=home_page, update_slug="copie")
    assert PASSWORD_FORM not in templates(f"{alias.url}?vu=1")

    restrict(source)

    assert PASSWORD_FORM in templates(f"{alias.url}?vu=2")

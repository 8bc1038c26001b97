"""The storefront's own routing and view-restriction reads (fewer queries than Wagtail's) still
find the right page and still honour every restriction, on the page, on an ancestor, and through
an alias."""

import pytest
from wagtail.models import PageViewRestriction

from home.tests.factories import StandardPageFactory
from menu.tests.factories import ProductPageFactory
from stores.tests.factories import StorePageFactory

pytestmark = pytest.mark.django_db


def restrict(page):
    return PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )


def test_each_kind_of_child_of_the_home_page_is_served_as_its_own_type(client, menu_page, store_index):
    legal = StandardPageFactory(parent=menu_page.get_parent(), title="Mentions légales", slug="mentions")

    for page, template in (
        (menu_page, "menu/menu_page.html"),
        (store_index, "stores/store_index_page.html"),
        (legal, "home/standard_page.html"),
    ):
        response = client.get(page.url)

        assert response.status_code == 200, page.url
        assert response.context["page"] == page
        assert type(response.context["page"]) is type(page)
        assert template in [t.name for t in response.templates]


def test_an_unknown_child_of_the_home_page_is_not_found(client, home_page):
    assert client.get("/nulle-part/").status_code == 404


def test_a_restricted_page_asks_for_its_password(client, home_page):
    legal = StandardPageFactory(parent=home_page, slug="mentions")
    restrict(legal)

    response = client.get(legal.url)

    assert response.status_code == 200
    assert "wagtailcore/password_required.html" in [t.name for t in response.templates]


def test_a_restriction_on_an_ancestor_covers_its_descendants(client, menu_page, store_index):
    product = ProductPageFactory(parent=menu_page, slug="margherita")
    store = StorePageFactory(parent=store_index, slug="bellecour")
    restrict(menu_page)

    assert "wagtailcore/password_required.html" in [t.name for t in client.get(product.url).templates]
    assert "wagtailcore/password_required.html" not in [t.name for t in client.get(store.url).templates]


def test_an_alias_has_the_restrictions_of_its_source_page(client, home_page):
    source = StandardPageFactory(parent=home_page, slug="source")
    parent = StandardPageFactory(parent=home_page, slug="ailleurs")
    alias = source.create_alias(parent=parent, update_slug="copie")
    restrict(source)

    response = client.get(alias.url)

    assert "wagtailcore/password_required.html" in [t.name for t in response.templates]
    assert list(alias.get_view_restrictions()) == list(source.get_view_restrictions())


def test_the_children_of_an_alias_have_the_restrictions_of_its_source_page(client, home_page):
    source = StandardPageFactory(parent=home_page, slug="source")
    child = StandardPageFactory(parent=source, slug="enfant")
    alias = source.create_alias(parent=home_page, update_slug="copie", recursive=True)
    restrict(source)

    alias_child = alias.get_children().get(slug="enfant").specific

    assert alias_child.alias_of_id == child.id
    assert "wagtailcore/password_required.html" in [t.name for t in client.get(alias_child.url).templates]


def test_a_page_without_restrictions_has_none(home_page):
    legal = StandardPageFactory(parent=home_page, slug="mentions")
    restrict(StandardPageFactory(parent=home_page, slug="voisine"))

    assert list(legal.get_view_restrictions()) == []

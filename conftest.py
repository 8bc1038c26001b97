"""Fixtures shared by every app's tests: the site tree the storefront needs."""

import pytest
from wagtail.models import Page, Site

from home.tests.factories import HomePageFactory
from menu.tests.factories import MenuPageFactory
from stores.tests.factories import StoreIndexPageFactory


@pytest.fixture
def home_page(db):
    """A HomePage as the default site's root, replacing Wagtail's welcome page."""
    root = Page.get_first_root_node()
    home = HomePageFactory(parent=root)
    Site.objects.update_or_create(
        is_default_site=True, defaults={"hostname": "localhost", "port": 80, "root_page": home}
    )
    Page.objects.filter(depth=2).exclude(id=home.id).delete()
    return home


@pytest.fixture
def menu_page(home_page):
    return MenuPageFactory(parent=home_page)


@pytest.fixture
def store_index(home_page):
    return StoreIndexPageFactory(parent=home_page)

import pytest

from .factories import make_shop


@pytest.fixture
def shop(home_page, store_index, menu_page):
    return make_shop(store_index, menu_page)

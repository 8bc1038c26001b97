"""A customer opens the menu of the store that lacks mozzarella and sees the pizza greyed out."""

import pytest

from menu.tests.factories import IngredientFactory, product_with_recipe

from .factories import StorePageFactory, stock

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see test_concurrency.py
def test_the_store_menu_greys_out_the_pizza_it_cannot_make(live_server, browser_page, menu_page, store_index):
    dough = IngredientFactory(name="Pâte")
    cheese = IngredientFactory(name="Mozzarella")
    product_with_recipe(menu_page, title="Margherita", recipe={dough: 200, cheese: 100})
    product_with_recipe(menu_page, title="Marinara", recipe={dough: 200})
    vaise = StorePageFactory(parent=store_index, title="OC Pizza Vaise", slug="vaise")
    stock(vaise, {dough: 5000, cheese: 50})

    browser_page.goto(f"{live_server.url}{menu_page.url}")
    browser_page.get_by_role("link", name="OC Pizza Vaise").click()
    browser_page.wait_for_url("**/pizzeria/vaise/")

    margherita = browser_page.locator('[data-product="margherita"]')
    marinara = browser_page.locator('[data-product="marinara"]')
    assert "is-unavailable" in margherita.get_attribute("class")
    assert "Épuisé" in margherita.inner_text() and "Plus de mozzarella" in margherita.inner_text()
    assert float(margherita.evaluate("card => getComputedStyle(card).opacity")) < 1
    assert "is-unavailable" not in marinara.get_attribute("class")

"""A customer opens the menu of the store that lacks mozzarella and sees the pizza greyed out."""

import pytest

from menu.tests.factories import IngredientFactory, product_with_recipe

from .factories import StorePageFactory, stock

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see test_concurrency.py
def test_the_store_menu_greys_out_the_pizza_it_cannot_make(
    live_server, browser_page, axe_violations, menu_page, store_index
):
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
    assert "grayscale(1)" in margherita.locator(".card-img").evaluate("img => getComputedStyle(img).filter")
    # Greyed out, still readable: its text keeps full opacity and every contrast passes axe-core.
    assert float(margherita.evaluate("card => getComputedStyle(card).opacity")) == 1
    assert axe_violations(browser_page) == []
    assert "is-unavailable" not in marinara.get_attribute("class")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_manager_records_a_delivery_and_sees_the_new_level(live_server, browser_page, store_index):
    from accounts.tests.factories import PASSWORD, UserFactory
    from ocpizza import roles
    from stores.models import StoreMembership, StoreRole

    cheese = IngredientFactory(name="Mozzarella")
    bellecour = StorePageFactory(parent=store_index, title="OC Pizza Bellecour", slug="bellecour")
    stock(bellecour, {cheese: 100}, thresholds={cheese: 500})
    manager = UserFactory(email="romain@oc-pizza.fr", groups=[roles.STORE_MANAGERS])
    StoreMembership.objects.create(user=manager, store=bellecour, role=StoreRole.MANAGER)
    page = browser_page

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", manager.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"{live_server.url}/admin/stock/")  # one store: straight to its stock
    row = page.locator("tr", has_text="Mozzarella")
    assert row.get_attribute("data-low") is not None
    page.get_by_role("link", name="Enregistrer une livraison").click()
    page.select_option("select[name=lines-0-ingredient]", label="Mozzarella")
    page.fill("input[name=lines-0-quantity]", "2000")
    page.get_by_role("button", name="Enregistrer").click()

    page.wait_for_url(f"**/admin/stock/{bellecour.id}/")
    row = page.locator("tr", has_text="Mozzarella")
    assert "2100" in row.inner_text()
    assert row.get_attribute("data-low") is None
    assert "Livraison enregistrée." in page.content()

"""Head office prices the mozzarella, then reads November's gaps of a store in a real browser."""

import datetime

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]


def paris(month, day, hour):
    return timezone.make_aware(datetime.datetime(2026, month, day, hour))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see test_concurrency.py
def test_head_office_prices_an_ingredient_and_reads_the_gaps(
    live_server, browser_page, menu_page, store_index
):
    from accounts.tests.factories import PASSWORD, UserFactory
    from menu.tests.factories import IngredientFactory, product_with_recipe
    from ocpizza import roles
    from stores.services import consume_reservation, count_inventory, reserve_ingredients, restock

    from .factories import StorePageFactory

    cheese = IngredientFactory(name="Mozzarella")
    dough = IngredientFactory(name="Pâte")
    reine = product_with_recipe(menu_page, title="Reine", recipe={dough: 200, cheese: 100}).sizes.get()
    store = StorePageFactory(parent=store_index, title="OC Pizza Bellecour", slug="bellecour")
    head_office = UserFactory(email="henri@oc-pizza.fr", groups=[roles.HEAD_OFFICE])
    restock(store=store, lines=[(cheese, 5000), (dough, 8000)], user=None, now=paris(10, 30, 9))
    count_inventory(store=store, counts=[(cheese, 4900), (dough, 8000)], user=None, now=paris(10, 31, 22))
    reserve_ingredients(store=store, lines=[(reine, 3, [])], order_reference="N-1", now=paris(11, 6, 12))
    consume_reservation(store=store, order_reference="N-1", now=paris(11, 6, 13))
    count_inventory(store=store, counts=[(cheese, 4300), (dough, 7350)], user=None, now=paris(11, 30, 22))
    page = browser_page

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", head_office.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    page.goto(f"{live_server.url}/admin/snippets/menu/ingredient/edit/{cheese.pk}/")
    page.fill("input[name=purchase_price]", "8,40")
    page.get_by_role("button", name="Enregistrer").first.click()
    page.wait_for_url("**/admin/snippets/menu/ingredient/")

    page.goto(f"{live_server.url}/admin/stock/{store.id}/ecarts/")
    page.fill("input[name=date_from]", "2026-11-01")
    page.fill("input[name=date_to]", "2026-11-30")
    page.get_by_role("button", name="Afficher", exact=True).click()
    page.wait_for_url("**/ecarts/?date_from=2026-11-01&date_to=2026-11-30")

    counts = page.locator("[data-food-cost-counts]").inner_text()
    assert "de l'inventaire du 31/10/2026 22:00 à l'inventaire du 30/11/2026 22:00" in counts
    rows = page.locator("tbody tr")
    # Mozzarella: 4900 − 4300 = 600 g used for 300 g expected: 300 g at 8,40 €/kg.
    assert rows.nth(0).get_attribute("data-ingredient") == "Mozzarella"
    assert rows.nth(0).locator("[data-gap]").inner_text() == "+300"
    assert rows.nth(0).locator("[data-gap-cost]").inner_text() == "2,52 €"
    assert rows.nth(1).locator("[data-gap-cost]").inner_text() == "sans prix"

"""A guest orders two pizzas with an extra for pickup, then watches the kitchen start, without reloading."""

import datetime
import re
from pathlib import Path

import pytest
from django.utils import timezone

from ordering import services
from ordering.models import Order

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_a_guest_orders_for_pickup_and_follows_the_order_live(
    live_server, browser_page, menu_page, vaise, margherita, extra_cheese, marinara
):
    page = browser_page
    page.goto(f"{live_server.url}{menu_page.url}pizzeria/vaise/")

    card = page.locator('[data-product="margherita"]')
    card.locator("select[name=size]").select_option(label="Grande — 15,00\u00a0€")
    card.locator("summary").click()
    card.get_by_label("Supplément mozzarella").check()
    card.locator("input[name=quantity]").fill("2")
    card.get_by_role("button", name="Ajouter Margherita au panier").click()

    # The script added it in place: same page, a message, the header's count.
    card.get_by_text("Margherita (Grande) × 2 ajouté au panier.").wait_for()
    assert page.url.endswith("/pizzeria/vaise/")
    assert page.locator("[data-cart-count]").inner_text() == "2"
    page.screenshot(path=_shot("store-menu"), full_page=True)

    page.locator(".cart-link").click()
    page.wait_for_url("**/panier/")
    line = page.locator("[data-cart-line='0']")
    assert "Margherita" in line.inner_text() and "Supplément mozzarella" in line.inner_text()
    assert page.locator("[data-cart-total]").inner_text() == "33,00\u00a0€"
    page.screenshot(path=_shot("cart"), full_page=True)

    page.get_by_role("link", name="Commander").click()
    page.wait_for_url("**/panier/commander/")
    assert page.get_by_role("link", name="À emporter").get_attribute("aria-current") == "page"
    page.fill("input[name=name]", "Claire Martin")
    page.fill("input[name=phone]", "06 12 34 56 78")
    page.fill("input[name=email]", "claire@example.fr")
    page.select_option("select[name=when]", "asap")
    page.check("input[name=payment_method][value=cash]")
    page.screenshot(path=_shot("checkout"), full_page=True)
    page.get_by_role("button", name=re.compile("Confirmer la commande")).click()

    page.wait_for_url(re.compile(r".*/commandes/[A-Z]{3}-\d{4}-\d+/[^/]+/$"))
    status = page.locator("[data-order-status]")
    assert status.inner_text() == "Reçue"
    page.evaluate("window.notReloaded = true")

    order = Order.objects.get()
    services.start_preparing(order)

    page.locator("[data-order-status='preparing']").wait_for(timeout=5_000)
    assert status.inner_text() == "En préparation"
    assert page.evaluate("window.notReloaded") is True
    assert "ne peut plus être modifiée" in page.locator("[data-order-live]").inner_text()
    page.screenshot(path=_shot("order-preparing"), full_page=True)


def _shot(name):
    folder = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"ordering-{name}.png"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_guest_orders_in_a_slot_from_the_product_page_then_cancels_and_the_stock_comes_back(
    live_server, browser_page, menu_page, vaise, marinara, dough
):
    from stores.models import StockLevel

    page = browser_page
    page.goto(f"{live_server.url}{marinara.url}")
    page.select_option("select[name=store]", label="OC Pizza Vaise")
    page.fill("input[name=quantity]", "3")
    page.get_by_role("button", name="Ajouter Marinara au panier").click()
    page.get_by_text("Marinara (Moyenne) × 3 ajouté au panier.").wait_for()

    page.goto(f"{live_server.url}/panier/commander/")
    page.fill("input[name=name]", "Paul Durand")
    page.fill("input[name=phone]", "06 98 76 54 32")
    page.fill("input[name=email]", "paul@example.fr")
    slot = page.locator("select[name=when] option").nth(2)
    slot_value, slot_label = slot.get_attribute("value"), slot.inner_text()
    page.select_option("select[name=when]", slot_value)
    page.check("input[name=payment_method][value=card_terminal]")
    page.get_by_role("button", name=re.compile("Confirmer la commande")).click()
    page.wait_for_url(re.compile(r".*/commandes/[A-Z]{3}-\d{4}-\d+/[^/]+/$"))

    order = Order.objects.get()
    assert order.slot_start == datetime.datetime.fromisoformat(slot_value) and order.asap is False
    assert timezone.localtime(order.slot_start).strftime("%H:%M") in slot_label  # Paris time
    assert StockLevel.objects.get(store=vaise, ingredient=dough).reserved == 600

    page.get_by_role("link", name="Annuler la commande").click()
    page.get_by_role("button", name="Annuler la commande").click()
    page.locator("[data-order-status='cancelled']").wait_for()
    assert page.locator("[data-order-status]").inner_text() == "Annulée"
    assert StockLevel.objects.get(store=vaise, ingredient=dough).reserved == 0

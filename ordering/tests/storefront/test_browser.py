"""A guest orders two pizzas with an extra for pickup, then watches the kitchen start, without reloading."""

import re
from pathlib import Path

import pytest

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

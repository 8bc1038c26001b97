"""Issue 12's kitchen board in headless Chromium on the demo chain (screenshots kept): Bellecour's
pizzaiolo opens the board on a tablet, turns the sound on; an order placed through the service
appears without a reload, highlighted; the pizzaiolo starts it, undoes the start (its stock comes
back), starts it again, marks it ready, and opens a line's recipe card.
"""

import datetime
import re

import pytest
from playwright.sync_api import expect

from ordering import services
from ordering.models import Order
from ordering.pricing import CartLine
from stores.models import OpeningHours, StockLevel, StorePage

from .test_journey_browser import SCREENSHOTS, load_demo
from .test_refund_journey_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]

TABLET = {"width": 1280, "height": 800}
# The board polls every second; a new order must show within two seconds of being placed.
APPEARS_WITHIN_MS = 2_000


def shot(page, name):
    """Keep a screenshot of the step; the page must fit the tablet's width (no sideways scroll)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    overflow = page.evaluate(
        """() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"""
    )
    assert not overflow, f"{name}: wider than the screen"
    page.screenshot(path=SCREENSHOTS / f"kitchen-journey-{name}.png", full_page=True)


def levels(store, names):
    return {
        level.ingredient.name: (level.on_hand, level.reserved)
        for level in StockLevel.objects.filter(store=store, ingredient__name__in=names).select_related(
            "ingredient"
        )
    }


def place_phone_order(store):
    """Two large Margheritas with extra mozzarella, by phone, in the next free pickup slot."""
    from menu.models import ProductPage
    from ordering.slots import available_slots

    pizza = ProductPage.objects.get(title="Margherita")
    large = pizza.sizes.order_by("sort_order").last()
    extra = pizza.extras.get(name="Supplément mozzarella")
    slot = available_slots(store, Order.Fulfilment.PICKUP)[0]
    return services.place_order(
        store=store,
        lines=[CartLine(size_id=large.id, quantity=2, extra_ids=(extra.id,))],
        fulfilment=Order.Fulfilment.PICKUP,
        contact=services.Contact(name="Nina Garnier", phone="06 98 76 54 32"),
        slot=slot.start,
        payment_method=Order.PaymentMethod.CASH,
        source=Order.Source.PHONE,
        idempotency_key="kitchen-journey-phone-1",
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_the_pizzaiolo_sees_a_new_order_live_starts_undoes_starts_again_and_marks_it_ready(
    live_server, chromium, watch_csp
):
    load_demo()
    bellecour = StorePage.objects.get(slug="bellecour").specific
    for weekday in range(7):  # a slot is offered whatever the day the test runs
        OpeningHours.objects.get_or_create(
            store=bellecour, weekday=weekday, opens=datetime.time(11), closes=datetime.time(23, 30)
        )
    # The Margherita's first step gets a photo (the demo's steps have none): the card shows it.
    from menu.models import PreparationStep, ProductPage

    margherita = ProductPage.objects.get(title="Margherita")
    PreparationStep.objects.filter(pk=margherita.preparation_steps.order_by("sort_order").first().pk).update(
        image=margherita.photo
    )
    tablet = chromium.new_context(locale="fr-FR", viewport=TABLET)
    watch_csp(tablet)
    page = tablet.new_page()
    page.set_default_timeout(15_000)

    log_in(page, live_server.url, "pizzaiolo@oc-pizza.fr")
    page.goto(f"{live_server.url}/equipe/")
    page.get_by_role("link", name="Cuisine").click()
    page.wait_for_url(f"**/equipe/{bellecour.id}/cuisine/")
    expect(page.get_by_role("heading", name="Cuisine", exact=True)).to_be_visible()
    sound = page.get_by_role("button", name="Activer le son")
    sound.click()
    expect(page.locator("[data-sound-toggle]")).to_have_attribute("aria-pressed", "true")
    page.evaluate("() => { window.kitchenPageId = 'same page'; }")  # gone if the page reloads
    shot(page, "1-board")

    order = place_phone_order(bellecour)
    ticket = page.locator(f'[data-ticket="{order.id}"]')
    expect(ticket).to_be_visible(timeout=APPEARS_WITHIN_MS)
    expect(ticket).to_have_class(re.compile(r"\bis-new\b"))
    expect(ticket).to_contain_text("À emporter · Téléphone · Nina Garnier")
    expect(ticket).to_contain_text("2 × Margherita Grande (36 cm)")
    expect(ticket).to_contain_text("+ Supplément mozzarella")
    assert page.evaluate("() => window.kitchenPageId") == "same page"
    shot(page, "2-new-order")

    received = page.locator(".kitchen-column-received")
    preparing = page.locator(".kitchen-column-preparing")
    ready = page.locator(".kitchen-column-ready")
    names = ["Pâte à pizza", "Mozzarella", "Sauce tomate"]
    placed = levels(bellecour, names)

    received.locator(f'[data-ticket="{order.id}"]').get_by_role("button", name="Commencer").click()
    expect(preparing.locator(f'[data-ticket="{order.id}"]')).to_be_visible()
    expect(page.locator(".staff-messages")).to_have_text(f"Commande {order.number} en préparation.")
    started = levels(bellecour, names)
    assert started != placed
    shot(page, "3-started")

    preparing.locator(f'[data-ticket="{order.id}"]').get_by_role(
        "button", name="Annuler : remettre en attente"
    ).click()
    expect(received.locator(f'[data-ticket="{order.id}"]')).to_be_visible()
    expect(page.locator(".staff-messages")).to_have_text(
        f"Commande {order.number} remise en attente : ses ingrédients sont de nouveau réservés."
    )
    assert levels(bellecour, names) == placed
    shot(page, "4-undone")

    received.locator(f'[data-ticket="{order.id}"]').get_by_role("button", name="Commencer").click()
    expect(preparing.locator(f'[data-ticket="{order.id}"]')).to_be_visible()
    assert levels(bellecour, names) == started
    preparing.locator(f'[data-ticket="{order.id}"]').get_by_role("button", name="Prête").click()
    expect(ready.locator(f'[data-ticket="{order.id}"]')).to_be_visible()
    expect(page.locator(".staff-messages")).to_have_text(f"Commande {order.number} prête.")
    assert Order.objects.get(pk=order.pk).status == Order.Status.READY
    assert page.evaluate("() => window.kitchenPageId") == "same page"
    shot(page, "5-ready")

    ready.locator(f'[data-ticket="{order.id}"]').get_by_role("link", name="Margherita").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Margherita Grande (36 cm)")
    expect(page.locator("main")).to_contain_text("Mozzarella supplément inclus")
    expect(page.get_by_role("heading", name="Préparation")).to_be_visible()
    expect(page.get_by_role("heading", name="Allergènes")).to_be_visible()
    expect(page.locator(".recipe-steps img").first).to_be_visible()
    shot(page, "6-recipe-card")
    page.get_by_role("link", name="← Retour à la cuisine").first.click()
    page.wait_for_url(f"**/equipe/{bellecour.id}/cuisine/#commande-{order.id}")
    tablet.close()

"""Issue 12's order taking in headless Chromium on the demo chain (screenshots kept): Bellecour's
équipier takes a phone order for a new customer at the counter tablet — the number finds nobody,
the address is checked (zone and fee), two large Margheritas with extra mozzarella and a tiramisu
are added, the order is placed — and the pizzaiolo's kitchen board, open in a second browser,
shows it within two seconds without a reload.
"""

import datetime
import re

import pytest
from playwright.sync_api import expect

from menu.models import ProductPage
from ordering.models import Order
from stores.models import OpeningHours, StorePage

from .test_journey_browser import SCREENSHOTS, load_demo
from .test_refund_journey_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]

TABLET = {"width": 1280, "height": 800}
APPEARS_WITHIN_MS = 2_000  # the kitchen board polls every second


def shot(page, name):
    """Keep a screenshot of the step; the page must fit the tablet's width (no sideways scroll)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    overflow = page.evaluate(
        """() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"""
    )
    assert not overflow, f"{name}: wider than the screen"
    page.screenshot(path=SCREENSHOTS / f"order-taking-{name}.png", full_page=True)


def tablet(chromium, watch_csp):
    context = chromium.new_context(locale="fr-FR", viewport=TABLET)
    watch_csp(context)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_the_equipier_takes_a_phone_order_for_a_new_customer_and_the_kitchen_sees_it(
    live_server, chromium, watch_csp, axe_violations
):
    load_demo()
    bellecour = StorePage.objects.get(slug="bellecour").specific
    for weekday in range(7):  # a slot is offered whatever the day the test runs
        OpeningHours.objects.get_or_create(
            store=bellecour, weekday=weekday, opens=datetime.time(11), closes=datetime.time(23, 30)
        )
    postcode = bellecour.delivery_postcode_list[0]
    pizza = ProductPage.objects.get(title="Margherita")
    large = pizza.sizes.order_by("sort_order").last()

    kitchen_context, kitchen = tablet(chromium, watch_csp)
    log_in(kitchen, live_server.url, "pizzaiolo@oc-pizza.fr")
    kitchen.goto(f"{live_server.url}/equipe/{bellecour.id}/cuisine/")
    expect(kitchen.get_by_role("heading", name="Cuisine", exact=True)).to_be_visible()

    counter_context, counter = tablet(chromium, watch_csp)
    log_in(counter, live_server.url, "equipier@oc-pizza.fr")
    counter.goto(f"{live_server.url}/equipe/")
    counter.get_by_role("link", name="Prise de commande").click()
    counter.wait_for_url(f"**/equipe/{bellecour.id}/prise-de-commande/")
    expect(counter.get_by_role("heading", name="Prise de commande", level=1)).to_be_visible()
    assert axe_violations(counter) == []
    shot(counter, "1-screen")

    # The number is unknown: a new customer, typed on the fly.
    counter.get_by_label("Numéro de téléphone du client").fill("06 55 44 33 22")
    counter.get_by_role("button", name="Rechercher").click()
    expect(counter.get_by_text("Aucun client connu à ce numéro")).to_be_visible()
    counter.get_by_label("Nom", exact=True).fill("Hugo Lambert")
    counter.get_by_label("Téléphone", exact=True).fill("06 55 44 33 22")

    # Delivery: the address is checked and priced.
    counter.get_by_label("Livraison", exact=True).check()
    counter.get_by_label("Adresse", exact=True).fill("8 rue de la République")
    counter.get_by_label("Code postal").fill(postcode)
    counter.get_by_label("Ville").fill("Lyon")
    counter.get_by_role("button", name="Vérifier l’adresse").click()
    expect(counter.locator(".taking-located")).to_contain_text("Adresse livrable")
    expect(counter.locator(".taking-located")).to_contain_text("frais de livraison")

    # Two large Margheritas with extra mozzarella.
    card = counter.locator(f"#produit-{pizza.id}")
    card.get_by_label("Taille").select_option(str(large.id))
    card.get_by_label("Quantité").fill("2")
    card.get_by_label("Supplément mozzarella").check()
    card.get_by_role("button", name="Ajouter Margherita").click()
    lines = counter.locator(".taking-lines")
    expect(lines).to_contain_text("Margherita")
    expect(lines).to_contain_text("Supplément mozzarella")
    expect(counter.get_by_label("Quantité de Margherita")).to_have_value("2")
    # What was typed is still there after each button.
    expect(counter.get_by_label("Nom", exact=True)).to_have_value("Hugo Lambert")
    expect(counter.get_by_label("Adresse", exact=True)).to_have_value("8 rue de la République")
    # A dessert at the bottom of the menu: the page comes back where the équipier was (the script).
    dessert = ProductPage.objects.get(title="Tiramisu")
    counter.locator(f"#produit-{dessert.id}").get_by_role("button", name="Ajouter Tiramisu").click()
    expect(lines).to_contain_text("Tiramisu")
    assert counter.evaluate("() => window.scrollY") > 1000
    total = counter.locator("[data-taking-total]").inner_text()
    shot(counter, "2-order-built")

    counter.get_by_label("Espèces").check()
    counter.get_by_role("button", name="Enregistrer la commande").click()
    expect(counter.get_by_role("heading", level=1)).to_contain_text("enregistrée")
    order = Order.objects.get(contact_name="Hugo Lambert")
    assert order.source == Order.Source.PHONE
    assert order.customer is None
    assert order.fulfilment == Order.Fulfilment.DELIVERY
    assert re.sub(r"\s", " ", total).replace("\u202f", " ") == re.sub(
        r"\s", " ", counter.locator("[data-taken-total]").inner_text()
    ).replace("\u202f", " ")
    expect(counter.locator("main")).to_contain_text(f"Numéro à donner au client : {order.number}")
    shot(counter, "3-confirmation")

    # The kitchen board shows it without a reload.
    ticket = kitchen.locator(f'[data-ticket="{order.id}"]')
    expect(ticket).to_be_visible(timeout=APPEARS_WITHIN_MS)
    expect(ticket).to_contain_text("Hugo Lambert")
    expect(ticket).to_contain_text("Téléphone")
    shot(kitchen, "4-kitchen")

    counter.get_by_role("link", name="Voir le tableau de la cuisine").click()
    counter.wait_for_url(f"**/equipe/{bellecour.id}/cuisine/")
    kitchen_context.close()
    counter_context.close()

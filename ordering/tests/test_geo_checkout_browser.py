"""Issue 11's checkout journey in headless Chromium: the chosen store does not deliver the address,
the checkout offers the one that does, and the customer orders there (screenshots kept).

A guest fills a cart at Vaise (which delivers 69009 only) and types an address in the 5th
arrondissement: as soon as the address is complete the page's script asks for its quote, and the
offer of OC Pizza Bellecour (which delivers 69005) appears with its promised time and its total.
One click moves the cart; the checkout at Bellecour comes back with the address and the contact
already filled, and the band's fee in the summary; the order is placed there with the address's
coordinates. Bellecour is opened all day, every day, so that it has a time to promise whatever the
hour the test runs at.
"""

import datetime
import re
from decimal import Decimal

import pytest

from menu.models import Ingredient
from stores.models import OpeningHours, StorePage
from stores.services import restock

from .test_journey_browser import (
    add_from_menu,
    choose_later_slot,
    euros,
    journey_orders,
    load_demo,
    quote_rows,
    shot,
    shown,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]

CENTRE_69005 = (Decimal("45.756000"), Decimal("4.803000"))


def open_bellecour_all_day():
    bellecour = StorePage.objects.get(slug="bellecour")
    OpeningHours.objects.filter(store=bellecour).delete()
    for weekday in range(7):
        OpeningHours.objects.create(
            store=bellecour, weekday=weekday, opens=datetime.time(0, 0), closes=datetime.time(23, 59)
        )
    restock(
        store=bellecour,
        lines=[(ingredient, 20_000) for ingredient in Ingredient.objects.all()],
        user=None,
        supplier="Livraison du matin",
    )
    return bellecour


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_outside_vaise_area_the_guest_takes_bellecour_offer_and_orders_there(live_server, browser_page):
    load_demo()
    bellecour = open_bellecour_all_day()
    page = browser_page

    page.goto(f"{live_server.url}/carte/pizzeria/vaise/")
    add_from_menu(page, "regina", size=euros("Moyenne (31 cm) — 13,50 €"), quantity=2)
    page.locator(".cart-link").first.click()
    page.wait_for_url("**/panier/")
    page.get_by_role("link", name="Commander", exact=True).click()
    page.wait_for_url("**/panier/commander/**")
    page.get_by_role("link", name="En livraison").click()
    page.wait_for_url("**/panier/commander/?mode=delivery")

    # The address is typed: the script asks for its quote; Vaise does not deliver it.
    page.fill("input[name=name]", "Inès Morel")
    page.fill("input[name=phone]", "06 55 44 33 22")
    page.fill("input[name=email]", "ines.morel@example.fr")
    page.fill("input[name=street_address]", "3 montée du Gourguillon")
    page.fill("input[name=postcode]", "69005")
    page.fill("input[name=city]", "Lyon")
    page.locator("input[name=city]").press("Tab")
    offer = page.locator(".store-offer")
    offer.wait_for()
    assert "OC Pizza Vaise ne livre pas cette adresse" in offer.inner_text()
    promise = offer.locator(".store-offer-promise").inner_text()
    later_day = r"(?:[^\W\d]+ \d{1,2} [^\W\d]+ )?"  # late in the evening: « lundi 30 novembre »
    expected = rf"La pizzeria OC Pizza Bellecour peut vous livrer {later_day}vers \d\d:\d\d\."
    assert re.fullmatch(expected, promise.strip())
    assert euros("Total là-bas : 29,50 €, dont 2,50 € de livraison.") in offer.inner_text()
    assert "ne livre pas cette adresse (69005 Lyon)" in page.locator("[data-recalculate-status]").inner_text()
    shot(page, "geo-1-vaise-offers-bellecour")

    # One click moves the cart; the checkout at Bellecour keeps what was typed.
    offer.get_by_role("button", name="Commander chez OC Pizza Bellecour").click()
    page.wait_for_url("**/panier/commander/?mode=delivery")
    assert "Votre panier est maintenant chez OC Pizza Bellecour" in shown(page)
    assert page.locator("input[name=street_address]").input_value() == "3 montée du Gourguillon"
    assert page.locator("input[name=name]").input_value() == "Inès Morel"
    assert "Livraison à cette adresse" in page.locator("[data-delivery-terms]").inner_text()
    assert page.locator(".store-offer").count() == 0
    assert quote_rows(page, ".checkout-summary .quote-table")["Frais de livraison"] == euros("2,50 €")
    _label, slot = choose_later_slot(page)
    page.check("input[name=payment_method][value=cash]")
    shot(page, "geo-2-bellecour-checkout")
    page.get_by_role("button", name=euros("Confirmer la commande (29,50 €)")).click()

    page.wait_for_url(re.compile(r".*/commandes/[A-Z]{3}-\d{4}-\d{3}/[-\w]+/$"))
    order = journey_orders().get()
    assert (order.store_id, order.fulfilment, order.total) == (bellecour.id, "delivery", Decimal("29.50"))
    assert (order.street_address, order.postcode, order.city) == ("3 montée du Gourguillon", "69005", "Lyon")
    assert (order.latitude, order.longitude) == CENTRE_69005
    assert order.slot_start == datetime.datetime.fromisoformat(slot)
    shot(page, "geo-3-order-at-bellecour")

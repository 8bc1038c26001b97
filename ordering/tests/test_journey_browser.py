"""Issue 9's browser journeys on the demo chain, in headless Chromium (screenshots kept).

1. A new customer signs up, confirms the e-mail from the outbox, fills a cart at Vaise (two pizzas,
   one with an extra; a sold-out pizza refused; a dessert), checks out for delivery paying cash,
   gets the free dessert, watches the kitchen start without reloading, and orders again.
2. A guest orders for pickup in a chosen slot and lands on the order's secret link.
3. A customer cancels their second order from its page: its stock comes back, the first order's stays.

The demo is built in the live server's database with `load_demo_data`; nothing is frozen. The
journeys choose a slot from the checkout's list (never "as soon as possible", which needs the store
open right now), and Vaise is opened on its closing day (Monday) so that the list is never empty,
whatever the hour the tests run at (e.g. Sunday night, when the demo's Vaise has no slot left until
Tuesday).
"""

import datetime
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from menu.models import Ingredient
from ordering import services
from ordering.models import Order
from stores.models import OpeningHours, StockLevel, StorePage

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]

NBSP = "\u00a0"
PASSWORD = "Une-pizza-au-feu-de-bois-9"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def euros(text):
    """'12,50 €' as the pages write it (a no-break space before the sign)."""
    return text.replace(" €", f"{NBSP}€")


def shown(page):
    """The text the page shows (no-break spaces kept, unlike its serialized HTML)."""
    return page.locator("body").inner_text()


def shot(page, name):
    """Keep a screenshot of the step; the page must fit the phone's width (no sideways scroll)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    overflow = page.evaluate(
        """() => [...document.querySelectorAll("body *")]
          .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className}`)"""
    )
    assert not overflow, f"{name}: wider than the phone's screen: {overflow}"
    page.screenshot(path=SCREENSHOTS / f"journey-{name}.png", full_page=True)


def journey_orders():
    """The orders the journeys place: the demo's own kitchen orders (at Bellecour) left out."""
    return Order.objects.exclude(idempotency_key__startswith="demo-kitchen-")


def load_demo():
    """The demo chain, with Vaise stocked with mozzarella and out of burrata, open every day."""
    from stores.services import record_waste, restock

    call_command("load_demo_data", "--i-know-this-is-production", stdout=io.StringIO())
    vaise = StorePage.objects.get(slug="vaise")
    # The demo leaves Vaise short of mozzarella: a delivery arrives, so its classic pizzas are back.
    mozzarella = Ingredient.objects.get(name="Mozzarella")
    restock(store=vaise, lines=[(mozzarella, 20_000)], user=None, supplier="Livraison du matin")
    # … and the burrata is spoiled: the Burrata pizza is sold out at Vaise.
    burrata = StockLevel.objects.get(store=vaise, ingredient__name="Burrata")
    record_waste(
        store=vaise, lines=[(burrata.ingredient, burrata.on_hand)], user=None, reason="Rupture du froid"
    )
    # Open on Monday too (the demo's closing day), so that a slot is always offered.
    for opens, closes in (
        (datetime.time(11, 30), datetime.time(14, 30)),
        (datetime.time(18), datetime.time(23)),
    ):
        OpeningHours.objects.get_or_create(store=vaise, weekday=0, opens=opens, closes=closes)
    return vaise


def choose_later_slot(page):
    """Pick a slot an hour or so ahead in the checkout's list (the first ones may become too near
    while the test runs); returns its label."""
    options = page.locator("select[name=when] option")
    values = [value for value in options.evaluate_all("(os) => os.map((o) => o.value)") if value != "asap"]
    assert values, "the checkout offers no slot"
    value = values[min(4, len(values) - 1)]
    page.select_option("select[name=when]", value)
    return page.locator(f"select[name=when] option[value='{value}']").inner_text(), value


def add_from_menu(page, slug, *, size=None, extras=(), quantity=1):
    card = page.locator(f'[data-product="{slug}"]')
    if size is not None:
        card.locator("select[name=size]").select_option(label=size)
    if extras:
        card.locator("summary").click()
        for extra in extras:
            card.get_by_label(extra).check()
    if quantity != 1:
        card.locator("input[name=quantity]").fill(str(quantity))
    card.locator("button[type=submit]").click()
    status = card.locator("[data-add-status]")
    status.locator("xpath=self::*[contains(@class, 'is-ok') or contains(@class, 'is-error')]").wait_for()
    return status


def quote_rows(page, selector):
    """{label: amount} of a receipt's footer rows (subtotal, discounts, fee, total)."""
    rows = page.locator(f"{selector} tfoot tr")
    return {
        row.locator("th").inner_text().strip(): row.locator("td").inner_text().strip() for row in rows.all()
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_a_new_customer_orders_delivery_at_vaise_gets_the_free_dessert_and_orders_again(
    live_server, browser_page
):
    vaise = load_demo()
    page = browser_page
    mail.outbox.clear()

    # Sign up, then confirm the address with the link of the e-mail.
    page.goto(f"{live_server.url}/compte/inscription/")
    page.get_by_label("E-mail").fill("lea.dupont@example.fr")
    page.get_by_label("Prénom").fill("Léa")
    page.get_by_label("Nom :", exact=True).fill("Dupont")
    page.get_by_label("Téléphone").fill("06 11 22 33 44")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    shot(page, "1-01-signup")
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url("**/compte/email/confirmation-envoyee/")
    shot(page, "1-02-verification-sent")
    assert [message.to for message in mail.outbox] == [["lea.dupont@example.fr"]]
    link = re.search(r"https?://[^/\s]+(/compte/email/confirmer/[-:\w]+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    page.goto(f"{live_server.url}{link.group(1)}")
    assert "Confirmez-vous que lea.dupont@example.fr est bien votre adresse e-mail ?" in shown(page)
    shot(page, "1-03-confirm-email")
    page.get_by_role("button", name="Confirmer").click()
    page.wait_for_url("**/compte/")  # logged in on confirmation, on the account page
    assert page.locator("header").get_by_role("link", name="Mon compte").count() == 1
    shot(page, "1-04-account")

    # Choose Vaise on the menu.
    page.goto(f"{live_server.url}/carte/")
    page.get_by_role("link", name="OC Pizza Vaise").click()
    page.wait_for_url("**/carte/pizzeria/vaise/")
    assert page.locator("h1").inner_text() == "La carte de OC Pizza Vaise"

    # Two pizzas, one with an extra.
    status = add_from_menu(
        page, "margherita", size=euros("Grande (36 cm) — 14,90 €"), extras=["Supplément mozzarella (+1,50 €)"]
    )
    assert status.inner_text() == "Margherita (Grande (36 cm)) × 1 ajouté au panier."
    status = add_from_menu(page, "regina", size=euros("Moyenne (31 cm) — 13,50 €"))
    assert status.inner_text() == "Regina (Moyenne (31 cm)) × 1 ajouté au panier."
    assert page.locator("[data-cart-count]").first.inner_text() == "2"
    shot(page, "1-05-vaise-menu-two-pizzas")

    # The Burrata is sold out at Vaise: greyed out on the menu, refused from its page.
    burrata = page.locator('[data-product="burrata"]')
    assert "is-unavailable" in burrata.get_attribute("class")
    assert "Épuisé" in burrata.inner_text()
    assert burrata.locator("form").count() == 0
    burrata.locator("h3 a").click()
    page.wait_for_url("**/burrata/")
    assert "Épuisé pour le moment chez OC Pizza Vaise : choisissez une autre pizzeria." in shown(page)
    form = page.locator("form[data-cart-add]")
    form.get_by_role("button", name="Ajouter Burrata au panier").click()
    refusal = form.locator("[data-add-status].is-error")
    refusal.wait_for()
    assert refusal.inner_text() == "Plus assez de burrata pour Burrata (Petite (26 cm))."
    shot(page, "1-06-sold-out-refused")
    assert page.locator("[data-cart-count]").first.inner_text() == "2"

    # The cart says the dessert would be free; back to the menu for one.
    page.locator(".cart-link").first.click()
    page.wait_for_url("**/panier/")
    assert page.locator(".hints").inner_text() == "Votre dessert est offert : ajoutez-en un."
    assert page.locator("[data-cart-total]").inner_text() == euros("29,90 €")
    shot(page, "1-07-cart-dessert-hint")
    page.goto(f"{live_server.url}/carte/pizzeria/vaise/")
    status = add_from_menu(page, "tiramisu")
    assert status.inner_text() == "Tiramisu (Pot individuel) × 1 ajouté au panier."
    assert page.locator("[data-cart-count]").first.inner_text() == "3"

    # The cart: the dessert is free.
    page.locator(".cart-link").first.click()
    page.wait_for_url("**/panier/")
    lines = page.locator("[data-cart-line]")
    assert lines.count() == 3
    assert "Supplément mozzarella" in lines.nth(0).inner_text()
    assert quote_rows(page, ".cart-table") == {
        "Sous-total": euros("34,80 €"),
        "2 pizzas achetées, le dessert offert": euros("−4,90 €"),
        "Total": euros("29,90 €"),
    }
    shot(page, "1-08-cart-free-dessert")

    # Checkout for delivery, in a slot, cash on delivery.
    page.get_by_role("link", name="Commander", exact=True).click()
    page.wait_for_url("**/panier/commander/**")
    page.get_by_role("link", name="En livraison").click()
    page.wait_for_url("**/panier/commander/?mode=delivery")
    assert page.locator("input[name=name]").input_value() == "Léa Dupont"
    assert page.locator("input[name=email]").input_value() == "lea.dupont@example.fr"
    page.fill("input[name=street_address]", "12 rue de Bourgogne")
    page.fill("input[name=postcode]", "69009")
    page.fill("input[name=city]", "Lyon")
    _label, slot = choose_later_slot(page)
    page.check("input[name=payment_method][value=cash]")
    assert quote_rows(page, ".checkout-summary .quote-table") == {
        "Sous-total": euros("34,80 €"),
        "2 pizzas achetées, le dessert offert": euros("−4,90 €"),
        "Frais de livraison": euros("2,50 €"),  # free from 30 € after the discount: 29,90 € is not
        "Total TTC": euros("32,40 €"),
        "dont TVA 10 %": euros("2,95 €"),
    }
    shot(page, "1-09-checkout-delivery")
    page.get_by_role("button", name=euros("Confirmer la commande (32,40 €)")).click()

    page.wait_for_url(re.compile(r".*/commandes/VAI-\d{4}-\d{3}/$"))
    order = journey_orders().get(customer__email="lea.dupont@example.fr")
    assert (order.status, order.fulfilment, order.payment_method) == ("received", "delivery", "cash")
    assert order.slot_start == datetime.datetime.fromisoformat(slot) and order.total == Decimal("32.40")
    assert page.locator("h1").inner_text() == f"Commande {order.number}"
    assert quote_rows(page, ".receipt") == {
        "Sous-total": euros("34,80 €"),
        "2 pizzas achetées, le dessert offert": euros("−4,90 €"),
        "Frais de livraison": euros("2,50 €"),
        "Total TTC": euros("32,40 €"),
    }
    assert "12 rue de Bourgogne" in page.locator(".order-receipt address").inner_text()
    assert "Paiement : Espèces" in page.locator(".order-receipt").inner_text()
    assert page.locator("[data-order-status]").inner_text() == "Reçue"
    confirmation = mail.outbox[-1]
    assert confirmation.to == ["lea.dupont@example.fr"] and order.number in confirmation.subject
    assert "2 pizzas achetées, le dessert offert" in confirmation.body
    shot(page, "1-10-order-received")

    # The kitchen starts: the page follows without a reload.
    page.evaluate("window.notReloaded = true")
    services.start_preparing(order)
    page.locator("[data-order-status='preparing']").wait_for(timeout=5_000)
    assert page.locator("[data-order-status]").inner_text() == "En préparation"
    assert page.evaluate("window.notReloaded") is True
    assert "ne peut plus être modifiée" in page.locator("[data-order-live]").inner_text()
    shot(page, "1-11-order-preparing-live")

    # Order again from the history: the cart is filled again.
    page.get_by_role("link", name="Toutes mes commandes").click()
    page.wait_for_url("**/commandes/")
    card = page.locator(f'[data-order="{order.number}"]')
    assert "En préparation" in card.inner_text() and euros("32,40 €") in card.inner_text()
    shot(page, "1-12-history")
    card.get_by_role("button", name="Commander à nouveau").click()
    page.wait_for_url("**/panier/")
    assert f"Votre panier reprend la commande {order.number} chez OC Pizza Vaise." in shown(page)
    lines = page.locator("[data-cart-line]")
    assert [lines.nth(i).locator(".line-name").inner_text() for i in range(lines.count())] == [
        "Margherita",
        "Regina",
        "Tiramisu",
    ]
    assert "Supplément mozzarella" in lines.nth(0).inner_text()
    assert page.locator("[data-cart-total]").inner_text() == euros("29,90 €")
    assert page.locator("[data-cart-count]").first.inner_text() == "3"
    shot(page, "1-13-order-again")
    assert vaise.orders.count() == 1


def checkout_pickup(page, *, contact=None, payment="cash"):
    """From the cart: check out for pickup in a slot an hour or so ahead; returns the slot chosen."""
    page.get_by_role("link", name="Commander", exact=True).click()
    page.wait_for_url("**/panier/commander/**")
    assert page.get_by_role("link", name="À emporter").get_attribute("aria-current") == "page"
    for field, value in (contact or {}).items():
        page.fill(f"input[name={field}]", value)
    label, slot = choose_later_slot(page)
    page.check(f"input[name=payment_method][value={payment}]")
    return label, datetime.datetime.fromisoformat(slot)


def confirm(page, total):
    page.get_by_role("button", name=euros(f"Confirmer la commande ({total})")).click()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_guest_orders_for_pickup_in_a_slot_and_gets_the_secret_link(live_server, browser_page):
    load_demo()
    page = browser_page
    mail.outbox.clear()

    page.goto(f"{live_server.url}/carte/pizzeria/vaise/")
    add_from_menu(page, "regina", size=euros("Moyenne (31 cm) — 13,50 €"), quantity=2)
    add_from_menu(page, "coca-cola")
    page.locator(".cart-link").first.click()
    page.wait_for_url("**/panier/")
    assert page.locator("[data-cart-total]").inner_text() == euros("29,50 €")

    label, slot = checkout_pickup(
        page,
        contact={"name": "Marc Girard", "phone": "07 98 76 54 32", "email": "marc.girard@example.fr"},
        payment="card_terminal",
    )
    assert "À retirer chez OC Pizza Vaise, 10 rue Marietton" in page.locator(".pickup-place").inner_text()
    assert quote_rows(page, ".checkout-summary .quote-table")["Total TTC"] == euros("29,50 €")
    shot(page, "2-01-guest-checkout-pickup-slot")
    confirm(page, "29,50 €")

    page.wait_for_url(re.compile(r".*/commandes/VAI-\d{4}-\d{3}/[-\w]+/$"))
    order = journey_orders().get()
    assert order.customer is None and order.contact_email == "marc.girard@example.fr"
    assert (order.fulfilment, order.payment_method, order.asap) == ("pickup", "card_terminal", False)
    assert order.slot_start == slot == order.promised_at
    assert page.url == f"{live_server.url}/commandes/{order.number}/{order.secret}/"
    assert page.locator("[data-order-status]").inner_text() == "Reçue"
    promised = timezone.localtime(slot).strftime("%H:%M")
    assert f"Prête vers {promised}" in page.locator(".promised").inner_text()
    assert promised in label
    assert "Gardez le lien de cette page : il permet de suivre votre commande." in shown(page)
    assert quote_rows(page, ".receipt")["Total TTC"] == euros("29,50 €")
    assert "Paiement : Carte bancaire (terminal)" in page.locator(".order-receipt").inner_text()
    shot(page, "2-02-guest-order-page")

    # The confirmation e-mail carries the same secret link.
    confirmations = [m for m in mail.outbox if order.number in m.subject]
    assert len(confirmations) == 1 and confirmations[0].to == ["marc.girard@example.fr"]
    assert f"/commandes/{order.number}/{order.secret}/" in confirmations[0].body

    # Another visitor (no session) sees the order through the link only.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/commandes/{order.number}/{order.secret}/")
    assert page.locator("[data-order-status]").inner_text() == "Reçue"
    assert page.goto(f"{live_server.url}/commandes/{order.number}/").status == 404
    assert page.goto(f"{live_server.url}/commandes/{order.number}/not-the-secret/").status == 404


def stock_at(store, *names):
    """{ingredient name: (on hand, reserved, free)} at `store`."""
    levels = StockLevel.objects.filter(store=store, ingredient__name__in=names).select_related("ingredient")
    return {level.ingredient.name: (level.on_hand, level.reserved, level.free) for level in levels}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_customer_cancels_a_second_order_and_its_stock_comes_back(live_server, browser_page):
    from ocpizza.management.commands.load_demo_data import PASSWORD as DEMO_PASSWORD

    vaise = load_demo()
    page = browser_page
    page.goto(f"{live_server.url}/compte/connexion/")
    page.fill("input[name=login]", "client@oc-pizza.fr")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)
    start = stock_at(vaise, "Mozzarella", "Tiramisu")

    # A first order: one margherita.
    page.goto(f"{live_server.url}/carte/pizzeria/vaise/")
    add_from_menu(page, "margherita", size=euros("Moyenne (31 cm) — 11,90 €"))
    page.goto(f"{live_server.url}/panier/")
    checkout_pickup(page, contact={"phone": "06 55 44 33 22"})  # the demo customer has no phone
    confirm(page, "11,90 €")
    page.wait_for_url(re.compile(r".*/commandes/VAI-\d{4}-001/$"))
    first = stock_at(vaise, "Mozzarella", "Tiramisu")
    assert first["Mozzarella"][1] == start["Mozzarella"][1] + 140  # 100 g for a small one, × 1.4

    # The second: another margherita and a tiramisu.
    page.goto(f"{live_server.url}/carte/pizzeria/vaise/")
    add_from_menu(page, "margherita", size=euros("Moyenne (31 cm) — 11,90 €"))
    add_from_menu(page, "tiramisu")
    page.goto(f"{live_server.url}/panier/")
    checkout_pickup(page, contact={"phone": "06 55 44 33 22"})
    confirm(page, "16,80 €")
    page.wait_for_url(re.compile(r".*/commandes/VAI-\d{4}-002/$"))
    second = stock_at(vaise, "Mozzarella", "Tiramisu")
    on_hand, reserved, free = first["Mozzarella"]
    assert second["Mozzarella"] == (on_hand, reserved + 140, free - 140)
    on_hand, reserved, free = first["Tiramisu"]
    assert second["Tiramisu"] == (on_hand, reserved + 1, free - 1)
    shot(page, "3-01-second-order")

    # Cancelled from its page: its stock comes back, the first order's stays reserved.
    page.get_by_role("link", name="Annuler la commande").click()
    page.wait_for_url("**/annuler/")
    assert euros("Votre commande de 16,80 € sera annulée.") in shown(page)
    page.fill("input[name=reason]", "Je me suis trompé de jour")
    shot(page, "3-02-cancel")
    page.get_by_role("button", name="Annuler la commande").click()
    page.wait_for_url(re.compile(r".*/commandes/VAI-\d{4}-002/$"))
    orders = list(journey_orders().order_by("number"))
    assert [o.status for o in orders] == ["received", "cancelled"]
    assert f"Votre commande {orders[1].number} est annulée." in page.locator(".messages").inner_text()
    assert page.locator("[data-order-status]").inner_text() == "Annulée"
    assert "Annuler la commande" not in page.locator("[data-order-live]").inner_text()
    shot(page, "3-03-cancelled")
    assert stock_at(vaise, "Mozzarella", "Tiramisu") == first

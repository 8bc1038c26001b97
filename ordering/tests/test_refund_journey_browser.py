"""Issue 10's « Done when », first bullet, in headless Chromium on the demo chain (screenshots kept):
the demo customer pays online with the simulator (a declined card, then a good one), the order is
received; the manager of the store finds it in the admin « Commandes » and refunds it; the
customer's order page says « Remboursée ». A manager of another store is refused the order.
"""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command

from ocpizza.management.commands.load_demo_data import PASSWORD as DEMO_PASSWORD
from ordering.payments import SimulatorProvider
from stores.models import OpeningHours, StorePage

from .test_journey_browser import (
    SCREENSHOTS,
    add_from_menu,
    choose_later_slot,
    euros,
    journey_orders,
    load_demo,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def shot(page, name):
    """Keep a screenshot of the step; the page must fit the screen's width (no sideways scroll)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    overflow = page.evaluate(
        """() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1"""
    )
    assert not overflow, f"{name}: wider than the screen"
    page.screenshot(path=SCREENSHOTS / f"refund-journey-{name}.png", full_page=True)


def assert_fits_the_phone(page, name):
    """In the admin (whose main column clips what is too wide), our content fits the phone's
    width but in the tables' scroll boxes (Wagtail's header is Wagtail's)."""
    page.set_viewport_size(PHONE)
    page.reload()
    clipped = page.evaluate(
        """() => [...document.querySelectorAll("main *")]
          .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
          .filter((el) => !el.closest(".stock-group, header"))
          .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}.${el.className}`)"""
    )
    assert not clipped, f"{name}: wider than the phone's screen: {clipped}"
    page.screenshot(path=SCREENSHOTS / f"refund-journey-{name}-phone.png")
    page.set_viewport_size(DESKTOP)


def sandbox_card(**wanted):
    cards = SimulatorProvider().card_form()["cards"]
    return next(card for card in cards if all(card[key] == value for key, value in wanted.items()))


def fill_card(page, number):
    page.get_by_label("Numéro de carte").fill(number)
    page.get_by_label("Expiration (MM/AA)").fill("12/34")
    page.get_by_label("Cryptogramme").fill("111")
    page.get_by_label("Code postal", exact=True).fill("69002")


def log_in(page, base_url, email):
    page.goto(f"{base_url}/compte/connexion/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url(lambda url: "/connexion/" not in url)


def log_in_admin(page, base_url, email):
    page.goto(f"{base_url}/admin/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_a_customer_pays_by_card_the_manager_refunds_and_the_customer_sees_it_refunded(
    live_server, chromium, csp_violations, watch_csp
):
    from accounts.tests.factories import PASSWORD, UserFactory
    from ocpizza import roles
    from stores.models import StoreMembership, StoreRole

    load_demo()
    bellecour = StorePage.objects.get(slug="bellecour")
    for weekday in range(7):  # a slot is offered whatever the day the test runs
        OpeningHours.objects.get_or_create(
            store=bellecour, weekday=weekday, opens=datetime.time(11), closes=datetime.time(23, 30)
        )
    customer = chromium.new_context(locale="fr-FR", viewport=PHONE)
    watch_csp(customer)
    page = customer.new_page()
    page.set_default_timeout(15_000)

    # The demo customer orders two pizzas at Bellecour, for pickup, card online.
    log_in(page, live_server.url, "client@oc-pizza.fr")
    page.goto(f"{live_server.url}/carte/pizzeria/bellecour/")
    add_from_menu(page, "margherita", size=euros("Moyenne (31 cm) — 11,90 €"))
    add_from_menu(page, "regina", size=euros("Moyenne (31 cm) — 13,50 €"))
    page.goto(f"{live_server.url}/panier/")
    page.get_by_role("link", name="Commander", exact=True).click()
    page.wait_for_url("**/panier/commander/**")
    page.fill("input[name=phone]", "06 55 44 33 22")  # the demo customer has no phone
    choose_later_slot(page)
    page.check("input[name=payment_method][value=card_online]")
    fill_card(page, sandbox_card(token="cnon:card-nonce-declined")["number"])
    shot(page, "01-checkout-declined-card")
    page.get_by_role("button", name=euros("Confirmer la commande (25,40 €)")).click()

    # Declined: the pay page says why; the order waits.
    page.wait_for_url(re.compile(r".*/commandes/BEL-\d{4}-\d+/payer/$"))
    order = journey_orders().get()
    assert order.status == "pending_payment"
    assert page.locator(".messages").inner_text() == order.payments.get().error
    shot(page, "02-pay-page-declined")
    assert page.get_by_role("link", name="Retour à la commande").get_attribute("href") == (
        f"/commandes/{order.number}/"
    )

    # A good card: paid, the order is received.
    fill_card(page, sandbox_card(token="cnon:card-nonce-ok", verification="none")["number"])
    page.get_by_role("button", name=euros("Payer 25,40 €")).click()
    page.wait_for_url(re.compile(rf".*/commandes/{order.number}/$"))
    assert "Paiement accepté" in page.locator(".messages").inner_text()
    assert page.locator("[data-order-status]").inner_text() == "Reçue"
    assert page.locator("[data-paid-amount]").inner_text() == euros("25,40 €")
    order.refresh_from_db()
    assert order.status == "received" and order.paid_amount() == Decimal("25.40")
    shot(page, "03-order-paid")

    # The manager of Bellecour finds the order in « Commandes » and refunds all of it.
    manager = chromium.new_context(locale="fr-FR", viewport=DESKTOP)
    watch_csp(manager)
    admin = manager.new_page()
    admin.set_default_timeout(15_000)
    log_in_admin(admin, live_server.url, "responsable@oc-pizza.fr")
    admin.get_by_role("link", name="Commandes").click()
    admin.wait_for_url("**/admin/commandes/")
    row = admin.locator(f'tr[data-order="{order.number}"]')
    assert "Payée" in row.inner_text() and euros("25,40 €") in row.inner_text()
    shot(admin, "04-admin-orders")
    assert_fits_the_phone(admin, "04-admin-orders")
    row.get_by_role("link", name=order.number).click()
    admin.wait_for_url(f"**/admin/commandes/{order.number}/")
    shot(admin, "05-admin-order")
    admin.get_by_role("link", name="Rembourser").click()
    admin.wait_for_url(f"**/admin/commandes/{order.number}/rembourser/")
    assert admin.locator("[data-refundable]").inner_text() == euros("25,40 €")
    admin.get_by_role("link", name="Retour à la commande").click()  # changed one's mind: back
    admin.wait_for_url(f"**/admin/commandes/{order.number}/")
    admin.get_by_role("link", name="Rembourser").click()
    admin.wait_for_url(f"**/admin/commandes/{order.number}/rembourser/")
    admin.get_by_label("Motif").fill("Pizza brûlée")
    shot(admin, "06-admin-refund")
    admin.get_by_role("button", name="Rembourser").click()
    admin.wait_for_url(f"**/admin/commandes/{order.number}/")
    assert euros(f"25,40 € remboursés sur la commande {order.number}.") in admin.locator("body").inner_text()
    assert admin.locator("[data-payment-state]").inner_text() == "Remboursée"
    shot(admin, "07-admin-refunded")
    assert_fits_the_phone(admin, "07-admin-refunded")
    order.refresh_from_db()
    assert (order.payment_state, order.refunded_amount()) == ("refunded", Decimal("25.40"))

    # The customer's order page says so.
    page.reload()
    assert page.locator(".payment-badge").inner_text() == "Remboursée"
    assert page.locator("[data-refunded-amount]").inner_text() == euros("25,40 €")
    shot(page, "08-customer-sees-refunded")

    # A manager of another store is refused the order (and its refund).
    other = UserFactory(email="gerant.vaise@oc-pizza.fr", groups=[roles.STORE_MANAGERS])
    StoreMembership.objects.create(
        user=other, store=StorePage.objects.get(slug="vaise"), role=StoreRole.MANAGER
    )
    manager.clear_cookies()
    admin.goto(f"{live_server.url}/admin/login/")
    admin.fill("input[name=username]", other.email)
    admin.fill("input[name=password]", PASSWORD)
    admin.click("button[type=submit]")
    admin.wait_for_url("**/admin/")
    assert admin.goto(f"{live_server.url}/admin/commandes/{order.number}/").status == 403
    shot(admin, "09-other-manager-refused")
    assert admin.goto(f"{live_server.url}/admin/commandes/{order.number}/rembourser/").status == 403
    admin.goto(f"{live_server.url}/admin/commandes/")
    assert admin.locator(f'tr[data-order="{order.number}"]').count() == 0

    # Head office reads the reconciliation report, linked from the orders.
    call_command("reconcile_payments", "--days", "7", stdout=io.StringIO())
    manager.clear_cookies()
    log_in_admin(admin, live_server.url, "siege@oc-pizza.fr")
    admin.goto(f"{live_server.url}/admin/commandes/")
    admin.get_by_role("link", name="Rapprochement des paiements").click()
    admin.wait_for_url("**/admin/commandes/rapprochement/")
    assert "Aucun écart : tout concorde." in admin.locator("main").inner_text()
    shot(admin, "10-head-office-reconciliation")
    assert_fits_the_phone(admin, "10-head-office-reconciliation")

    customer.close()
    manager.close()
    if csp_violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(csp_violations), pytrace=False)

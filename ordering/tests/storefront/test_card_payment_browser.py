"""A guest pays online with the simulator's card form: a declined card at checkout, then a good one
(with its 3-D Secure code) on the pay page, then the confirmation (headless Chromium, screenshots
kept)."""

import re
from decimal import Decimal
from pathlib import Path

import pytest

from ordering.models import Order
from ordering.payments import SimulatorProvider

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("restore_migrated_rows")]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"card-payment-{name}.png", full_page=True)


def sandbox_card(**wanted):
    """The first of the simulator's test cards (Square's sandbox cards) with these values."""
    cards = SimulatorProvider().card_form()["cards"]
    return next(card for card in cards if all(card[key] == value for key, value in wanted.items()))


def fill_card(page, number, *, expiry="12/34", cvv="111", postcode="69009"):
    page.get_by_label("Numéro de carte").fill(number)
    page.get_by_label("Expiration (MM/AA)").fill(expiry)
    page.get_by_label("Cryptogramme").fill(cvv)
    page.get_by_label("Code postal", exact=True).fill(postcode)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # see stores/tests/test_concurrency.py
def test_a_guest_pays_after_a_declined_card_and_sees_the_order_paid(
    live_server, browser_page, menu_page, vaise, marinara
):
    page = browser_page
    page.goto(f"{live_server.url}{marinara.url}")
    page.select_option("select[name=store]", label="OC Pizza Vaise")
    page.fill("input[name=quantity]", "2")
    page.get_by_role("button", name="Ajouter Marinara au panier").click()
    page.get_by_text("Marinara (Moyenne) × 2 ajouté au panier.").wait_for()

    page.goto(f"{live_server.url}/panier/commander/")
    page.fill("input[name=name]", "Claire Martin")
    page.fill("input[name=phone]", "06 12 34 56 78")
    page.fill("input[name=email]", "claire@example.fr")
    card_form = page.locator("[data-card-form]")
    page.check("input[name=payment_method][value=cash]")
    assert card_form.is_hidden()
    page.check("input[name=payment_method][value=card_online]")
    assert card_form.is_visible()
    fill_card(page, sandbox_card(token="cnon:card-nonce-declined")["number"])
    shot(page, "1-checkout-declined-card")
    page.get_by_role("button", name=re.compile("Confirmer la commande")).click()

    # Declined: the order waits on its pay page, which says why.
    page.wait_for_url(re.compile(r".*/commandes/[A-Z]{3}-\d{4}-\d+/[^/]+/payer/$"))
    order = Order.objects.get()
    declined = order.payments.get()
    assert order.status == "pending_payment" and declined.status == "failed"
    assert page.locator(".messages").inner_text() == declined.error
    shot(page, "2-pay-page-after-decline")

    # A number that is no test card is refused in the page: nothing is posted.
    fill_card(page, "4242 4242 4242 4242")
    page.get_by_role("button", name="Payer 20,00\u00a0€").click()
    errors = page.locator("[data-card-errors]")
    errors.wait_for()
    assert errors.inner_text() == "Carte inconnue : en démonstration, utilisez une carte de test."
    assert order.payments.count() == 1

    # Square's failing CVV declines a good test card: the pay page says so, and takes another.
    fill_card(page, sandbox_card(token="cnon:card-nonce-ok")["number"], cvv="911")
    page.get_by_role("button", name="Payer 20,00\u00a0€").click()
    page.get_by_role("alert").filter(has_text="Le cryptogramme de la carte est incorrect.").wait_for()
    assert order.payments.filter(status="failed").count() == 2

    # A good card whose bank asks for 3-D Secure: its code, in Square's kind of modal.
    card = sandbox_card(token="cnon:card-nonce-ok", verification="challenge")
    fill_card(page, card["number"])
    page.get_by_role("button", name="Payer 20,00\u00a0€").click()
    dialog = page.get_by_role("dialog", name="Vérification 3-D Secure")
    dialog.get_by_label("Code de vérification").fill(card["challenge_code"])
    shot(page, "3-3d-secure-code")
    dialog.get_by_role("button", name="Valider").click()

    page.wait_for_url(re.compile(r".*/commandes/[A-Z]{3}-\d{4}-\d+/[^/]+/$"))
    assert "Paiement accepté" in page.locator(".messages").inner_text()
    assert page.locator("[data-order-status]").inner_text() == "Reçue"
    assert page.locator("[data-paid-amount]").inner_text() == "20,00\u00a0€"
    order.refresh_from_db()
    assert order.status == "received"
    assert [(p.status, p.amount) for p in order.payments.all()] == [
        ("failed", Decimal("20.00")),
        ("failed", Decimal("20.00")),
        ("succeeded", Decimal("20.00")),
    ]
    shot(page, "4-order-paid")


# Square's SDK cannot be fetched here (no internet): a stand-in with its interface is served at its
# address, recording what our script asks of it; the charge goes to the local stub of Square's API.
FAKE_SQUARE_SDK = """
window.squareCalls = {};
window.Square = {
  payments: function (applicationId, locationId) {
    window.squareCalls.payments = [applicationId, locationId];
    return {
      setLocale: function (locale) { window.squareCalls.locale = locale; return Promise.resolve({}); },
      card: function () {
        return Promise.resolve({
          attach: function (selector) {
            document.querySelector(selector).textContent = "[Square card field]";
            window.squareCalls.attached = selector;
            return Promise.resolve();
          },
          tokenize: function (details) {
            window.squareCalls.details = details;
            return Promise.resolve({ status: "OK", token: "cnon:card-nonce-ok" });
          },
        });
      },
    };
  },
};
"""


def checkout_with_square(live_server, page, vaise, marinara):
    """Two marinaras in the cart, the checkout filled in for card online, Square's field shown."""
    vaise.payment_location_id = "LOC-VAISE"
    vaise.save()
    page.route(
        "https://sandbox.web.squarecdn.com/v1/square.js",
        lambda route: route.fulfill(content_type="application/javascript", body=FAKE_SQUARE_SDK),
    )
    page.goto(f"{live_server.url}{marinara.url}")
    page.select_option("select[name=store]", label="OC Pizza Vaise")
    page.fill("input[name=quantity]", "2")
    page.get_by_role("button", name="Ajouter Marinara au panier").click()
    page.get_by_text("Marinara (Moyenne) × 2 ajouté au panier.").wait_for()

    page.goto(f"{live_server.url}/panier/commander/")
    page.fill("input[name=name]", "Claire Martin")
    page.fill("input[name=phone]", "06 12 34 56 78")
    page.fill("input[name=email]", "claire@example.fr")
    page.check("input[name=payment_method][value=card_online]")
    page.get_by_text("[Square card field]").wait_for()
    return page


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_square_the_checkout_pays_with_the_token_of_squares_card_field(
    live_server, browser_page, menu_page, vaise, marinara, square_stub
):
    page = checkout_with_square(live_server, browser_page, vaise, marinara)
    page.get_by_role("button", name=re.compile("Confirmer la commande")).click()

    page.wait_for_url(re.compile(r".*/commandes/[A-Z]{3}-\d{4}-\d+/[^/]+/$"))
    order = Order.objects.get()
    assert order.status == "received"
    [charge] = square_stub.charges()
    assert (charge["amount_money"], charge["location_id"], charge["reference_id"]) == (
        {"amount": 2000, "currency": "EUR"},
        "LOC-VAISE",
        order.number,
    )
    shot(page, "square-order-paid")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_squares_card_field_gets_the_stores_location_and_the_order_for_3_d_secure(
    live_server, browser_page, menu_page, vaise, marinara, square_stub
):
    page = checkout_with_square(live_server, browser_page, vaise, marinara)
    # Stay on the page to read what the script asked: the token is in, the form is not sent.
    page.evaluate("HTMLFormElement.prototype.submit = function () { window.submitted = true; }")
    page.get_by_role("button", name=re.compile("Confirmer la commande")).click()
    page.wait_for_function("window.submitted === true")

    calls = page.evaluate("window.squareCalls")
    assert calls["payments"] == ["sandbox-sq0idb-stub-application", "LOC-VAISE"]
    assert calls["locale"] == "fr-FR" and calls["attached"] == "#square-card"
    assert calls["details"] == {
        "amount": "20.00",
        "currencyCode": "EUR",
        "intent": "CHARGE",
        "customerInitiated": True,
        "sellerKeyedIn": False,
        "billingContact": {
            "givenName": "Claire",
            "familyName": "Martin",
            "email": "claire@example.fr",
            "phone": "06 12 34 56 78",
            "countryCode": "FR",
        },
    }
    assert page.locator("input[name=source_token]").input_value() == "cnon:card-nonce-ok"
    assert not Order.objects.exists()

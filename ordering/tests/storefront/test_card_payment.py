"""Card payments online from the customer's side: the card form on the checkout and the pay page,
the checkout placing and paying in one request, the order page showing what was paid and refunded.

The simulator answers as Square's sandbox does to its test tokens; the browser side (the card
form's script) is driven in test_card_payment_browser.py.
"""

import re
from decimal import Decimal

import pytest

from ordering import services
from ordering.models import Order, Payment
from stores.models import StockLevel

from .conftest import size_of
from .test_checkout import CHECKOUT, checkout_post, fill_cart, hidden

OK, DECLINED = "cnon:card-nonce-ok", "cnon:card-nonce-declined"


@pytest.fixture
def filled(client, vaise, margherita, extra_cheese):
    fill_cart(client, vaise, (size_of(margherita, "Grande"), 2, [extra_cheese]))
    return client


def page_text(response):
    return response.content.decode()


def test_the_checkout_shows_the_simulators_card_form_whose_inputs_are_never_posted(filled):
    html = page_text(filled.get(CHECKOUT, HTTP_ACCEPT_LANGUAGE="fr"))

    form = re.search(r'<div class="card-form" data-card-form="simulator"[^>]*>', html)
    assert form is not None and 'data-amount="33.00"' in form.group(0)
    # The card's own inputs have no name: only the token the script makes is posted.
    for marker in ("data-card-number", "data-card-expiry", "data-card-cvv", "data-card-postcode"):
        tag = re.search(rf"<input[^>]*{marker}[^>]*>", html).group(0)
        assert "name=" not in tag
    assert re.search(r'<input type="hidden" name="source_token" value="" data-card-token disabled>', html)
    assert '<script id="simulated-cards" type="application/json">' in html
    assert "4111 1111 1111 1111" in html
    # Without JavaScript a test card is picked by radio.
    noscript = re.search(r'<noscript>\s*<fieldset class="test-card-choice">.*?</noscript>', html, re.S)
    noscript = noscript.group(0)
    assert f'name="source_token" value="{OK}" checked' in noscript
    assert f'value="{DECLINED}"' in noscript


def test_without_card_payments_online_the_checkout_has_no_card_form(filled, settings):
    settings.PAYMENT_PROVIDER = "none"

    html = page_text(filled.get(CHECKOUT, HTTP_ACCEPT_LANGUAGE="fr"))

    assert "data-card-form" not in html and "source_token" not in html


def test_a_good_card_at_checkout_places_and_pays_the_order_in_one_request(filled, vaise, cheese):
    response, data = checkout_post(filled, payment_method="card_online", source_token=OK)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/commandes/{order.number}/{order.secret}/"
    assert order.status == "received"
    assert [(p.kind, p.status, p.amount, p.idempotency_key) for p in order.payments.all()] == [
        ("charge", "succeeded", Decimal("33.00"), f"{data['idempotency_key']}-pay")
    ]
    page = filled.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr")
    assert "Paiement accepté : votre commande est transmise à la pizzeria." in page_text(page)
    assert re.search(r"data-paid-amount>33,00\xa0€<", page_text(page))


def test_a_declined_card_at_checkout_keeps_the_order_and_shows_why_on_the_pay_page(filled, vaise, cheese):
    response, data = checkout_post(filled, payment_method="card_online", source_token=DECLINED)

    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/commandes/{order.number}/{order.secret}/payer/"
    assert order.status == "pending_payment"
    assert StockLevel.objects.get(store=vaise, ingredient=cheese).reserved == 400  # 2 × (100 + 100)
    declined = order.payments.get()
    assert (declined.status, declined.amount) == ("failed", Decimal("33.00"))
    assert declined.error

    pay_page = filled.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr")
    html = page_text(pay_page)
    assert pay_page.status_code == 200
    assert declined.error.replace("'", "&#x27;") in html
    assert 'data-card-form="simulator"' in html and 'data-amount="33.00"' in html

    # Another card, without entering the order again.
    paid = filled.post(
        response["Location"],
        {"source_token": OK, "idempotency_key": hidden(html, "idempotency_key")},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert paid.status_code == 302 and paid["Location"] == f"/commandes/{order.number}/{order.secret}/"
    order.refresh_from_db()
    assert order.status == "received"
    assert [(p.status, p.amount) for p in order.payments.all()] == [
        ("failed", Decimal("33.00")),
        ("succeeded", Decimal("33.00")),
    ]


def test_the_same_checkout_post_twice_gives_one_order_and_one_charge(filled):
    first, data = checkout_post(filled, payment_method="card_online", source_token=OK)
    again = filled.post(CHECKOUT, data, HTTP_ACCEPT_LANGUAGE="fr")

    order = Order.objects.get()
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert Payment.objects.filter(kind="charge").count() == 1
    assert order.paid_amount() == Decimal("33.00")


def test_card_online_without_a_token_leads_to_the_pay_page(filled):
    response, _data = checkout_post(filled, payment_method="card_online")

    order = Order.objects.get()
    assert response["Location"] == f"/commandes/{order.number}/{order.secret}/payer/"
    assert order.status == "pending_payment" and not order.payments.exists()


def test_a_token_posted_with_a_payment_at_hand_over_is_ignored(filled):
    response, _data = checkout_post(filled, payment_method="cash", source_token=OK)

    order = Order.objects.get()
    assert response["Location"] == f"/commandes/{order.number}/{order.secret}/"
    assert order.status == "received" and not order.payments.exists()


def test_a_card_number_is_never_taken_for_a_token(filled):
    response, _data = checkout_post(filled, payment_method="card_online", source_token="4111 1111 1111 1111")

    assert response.status_code == 400
    assert not Order.objects.exists() and not Payment.objects.exists()


def test_the_pay_page_refuses_a_post_without_a_card(filled):
    response, _data = checkout_post(filled, payment_method="card_online")
    html = page_text(filled.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr"))

    refused = filled.post(
        response["Location"], {"idempotency_key": hidden(html, "idempotency_key")}, HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert refused.status_code == 400
    assert "Saisissez votre carte." in page_text(refused)
    assert not Payment.objects.exists()


def pay(order, token=OK):
    return services.pay_order(order, source_token=token, idempotency_key=f"{order.number}-test-pay")


def test_the_order_page_and_its_live_fragment_show_a_full_refund(filled, customer):
    filled.force_login(customer)
    checkout_post(filled, payment_method="card_online", source_token=OK)
    order = Order.objects.get()

    services.refund_order(
        order, amount=None, reason="Pizza brûlée", user=None, idempotency_key=f"{order.number}-refund"
    )

    for url in (f"/commandes/{order.number}/", f"/commandes/{order.number}/suivi/"):
        html = page_text(filled.get(url, HTTP_ACCEPT_LANGUAGE="fr"))
        assert 'data-payment-state="refunded"' in html
        assert "Remboursée" in html
        assert re.search(r"data-paid-amount>33,00\xa0€<", html)
        assert re.search(r"data-refunded-amount>33,00\xa0€<", html)


def test_the_order_page_shows_a_partial_refund(filled, customer):
    filled.force_login(customer)
    checkout_post(filled, payment_method="card_online", source_token=OK)
    order = Order.objects.get()

    services.refund_order(
        order,
        amount=Decimal("5.50"),
        reason="Boisson manquante",
        user=None,
        idempotency_key=f"{order.number}-refund",
    )

    html = page_text(filled.get(f"/commandes/{order.number}/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert 'data-payment-state="partially_refunded"' in html
    assert "Partiellement remboursée" in html
    assert re.search(r"data-refunded-amount>5,50\xa0€<", html)


def test_an_order_paid_at_hand_over_shows_no_payment_until_staff_record_it(filled, customer):
    filled.force_login(customer)
    checkout_post(filled, payment_method="cash")
    order = Order.objects.get()

    html = page_text(filled.get(f"/commandes/{order.number}/", HTTP_ACCEPT_LANGUAGE="fr"))

    assert "data-payment-state" not in html and "data-paid-amount" not in html

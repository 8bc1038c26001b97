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
    assert (
        StockLevel.objects.get(store=vaise, ingredient=cheese).reserved == 420
    )  # two large pizzas with extra mozzarella, until paid or expired
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


# With Square (the real squareup SDK against the local stub of Square's API) ---------------------


@pytest.fixture
def vaise_on_square(vaise, square_stub):
    vaise.payment_location_id = "LOC-VAISE"
    vaise.save()
    return vaise


def test_the_checkout_loads_squares_sdk_for_the_stores_location_with_the_csp_nonce(
    filled, vaise_on_square, square_stub
):
    response = filled.get(CHECKOUT, HTTP_ACCEPT_LANGUAGE="fr")
    html = page_text(response)

    form = re.search(r'<div class="card-form" data-card-form="square"[^>]*>', html, re.S).group(0)
    assert 'data-application-id="sandbox-sq0idb-stub-application"' in form
    assert 'data-location-id="LOC-VAISE"' in form and 'data-environment="sandbox"' in form
    assert 'data-amount="33.00"' in form and 'data-currency="EUR"' in form
    nonce = re.search(r'<script src="https://sandbox.web.squarecdn.com/v1/square.js" nonce="([^"]+)">', html)
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1).split()
    # Square's origins join the policy at start-up from the settings (test_square_csp.py); the
    # page's script tag carries the request's nonce.
    assert nonce is not None and f"'nonce-{nonce.group(1)}'" in script_src
    assert "data-card-number" not in html  # Square's own fields, in its frames


def test_a_card_whose_bank_asks_for_3ds_is_charged_with_the_verification_token(
    filled, vaise_on_square, square_stub
):
    from ordering.tests.square_stub import REQUIRES_VERIFICATION

    response, _data = checkout_post(
        filled,
        payment_method="card_online",
        source_token=REQUIRES_VERIFICATION,
        verification_token="verf:stub-3ds",
    )

    order = Order.objects.get()
    assert response["Location"] == f"/commandes/{order.number}/{order.secret}/"
    assert order.status == "received"
    [charge] = square_stub.charges()
    assert (charge["amount_money"], charge["location_id"]) == (
        {"amount": 3300, "currency": "EUR"},
        "LOC-VAISE",
    )
    [(_operation, _method, _path, sent)] = [r for r in square_stub.requests if r[0] == "payments.create"]
    assert sent["verification_token"] == "verf:stub-3ds" and sent["reference_id"] == order.number


def test_a_declined_square_card_leads_to_the_pay_page_with_squares_reason(
    filled, vaise_on_square, square_stub
):
    response, _data = checkout_post(
        filled, payment_method="card_online", source_token="cnon:stub-decline-INSUFFICIENT_FUNDS"
    )

    order = Order.objects.get()
    assert response["Location"] == f"/commandes/{order.number}/{order.secret}/payer/"
    declined = order.payments.get()
    assert declined.status == "failed" and declined.error
    page = filled.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr")
    assert declined.error.replace("'", "&#x27;") in page_text(page)
    assert order.status == "pending_payment" and square_stub.charges() == []


def test_a_charge_without_an_answer_leaves_the_order_awaiting_confirmation(
    filled, customer, vaise_on_square, square_stub, settings
):
    settings.SQUARE_TIMEOUT = 0.3
    square_stub.delay_next("payments.create", 1.5, times=10)  # the charge is taken, no answer comes
    filled.force_login(customer)

    response, _data = checkout_post(filled, payment_method="card_online", source_token=OK)

    order = Order.objects.get()
    assert response["Location"] == f"/commandes/{order.number}/"
    assert order.status == "pending_payment"
    assert [(p.status, p.amount) for p in order.payments.all()] == [("pending", Decimal("33.00"))]
    assert len(square_stub.charges()) == 1
    html = page_text(filled.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Paiement en cours de confirmation par la banque." in html  # the message
    assert 'data-payment-state="pending"' in html and "Payer maintenant" not in html
    # The pay page takes no second card meanwhile.
    again = filled.get(f"/commandes/{order.number}/payer/", HTTP_ACCEPT_LANGUAGE="fr")
    assert again.status_code == 302 and again["Location"] == f"/commandes/{order.number}/"


def test_the_pay_page_takes_only_keys_it_made_never_one_the_server_derives_for_another_order(
    filled, vaise, margherita, extra_cheese
):
    # Payment keys are unique across all orders: a key shaped like one the server derives for
    # another order (its hand-over payment, its refunds) would block that order's payment.
    checkout_post(filled, payment_method="cash")
    victim = Order.objects.get()
    fill_cart(filled, vaise, (size_of(margherita, "Grande"), 2, [extra_cheese]))
    response, _data = checkout_post(filled, payment_method="card_online")

    refused = filled.post(
        response["Location"],
        {"source_token": OK, "idempotency_key": f"{victim.number}-handover-v{victim.version}"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert refused.status_code == 400
    assert not Payment.objects.exists()
    payment = services.record_payment(victim, method="cash", amount_received=Decimal("40.00"), user=None)
    assert (payment.amount, payment.change_given) == (Decimal("33.00"), Decimal("7.00"))


def test_a_card_paid_order_can_be_changed_and_a_higher_total_is_charged_to_a_test_card(filled, vaise):
    response, _data = checkout_post(filled, payment_method="card_online", source_token=OK)
    order = Order.objects.get()
    change_url = f"{response['Location']}modifier/"

    page = filled.get(change_url, HTTP_ACCEPT_LANGUAGE="fr")

    assert page.status_code == 200
    html = page_text(page)
    assert f'name="source_token" value="{OK}" checked' in html
    assert 'value="cnon:card-nonce-declined"' in html
    line = order.lines.get()
    changed = filled.post(
        change_url,
        {f"quantity-{line.id}": line.quantity + 1, "when": "asap", "source_token": OK},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert changed.status_code == 302
    order.refresh_from_db()
    assert order.total == Decimal("49.50")
    assert [(p.kind, p.status, p.amount) for p in order.payments.all()] == [
        ("charge", "succeeded", Decimal("33.00")),
        ("charge", "succeeded", Decimal("16.50")),
    ]


def test_with_square_the_change_page_offers_no_sandbox_test_card(filled, vaise, square_stub):
    response, _data = checkout_post(filled, payment_method="card_online", source_token=OK)

    page = filled.get(f"{response['Location']}modifier/", HTTP_ACCEPT_LANGUAGE="fr")

    assert page.status_code == 200
    assert "cnon:" not in page_text(page)


def test_the_pay_page_links_back_to_the_order(filled, vaise):
    response, _data = checkout_post(filled, payment_method="card_online", source_token=DECLINED)
    order = Order.objects.get()

    html = page_text(filled.get(response["Location"], HTTP_ACCEPT_LANGUAGE="fr"))

    assert f'<a href="/commandes/{order.number}/{order.secret}/">Retour à la commande</a>' in html


def test_with_square_a_change_raising_the_total_asks_squares_card_form_for_the_difference(
    filled, vaise_on_square, square_stub
):
    response, _data = checkout_post(filled, payment_method="card_online", source_token=OK)
    order = Order.objects.get()
    change_url = f"{response['Location']}modifier/"
    line = order.lines.get()
    change = {f"quantity-{line.id}": line.quantity + 1, "when": "asap"}

    # The server prices the change, then asks for a card for the difference only.
    asked = filled.post(change_url, change, HTTP_ACCEPT_LANGUAGE="fr")

    assert asked.status_code == 200
    html = page_text(asked)
    assert "Nouveau total 49,50\u00a0€, reste à payer 16,50\u00a0€" in html
    form = re.search(r'<div class="card-form" data-card-form="square"[^>]*>', html, re.S).group(0)
    assert 'data-application-id="sandbox-sq0idb-stub-application"' in form
    assert 'data-location-id="LOC-VAISE"' in form and 'data-amount="16.50"' in form
    assert re.search(r'<script src="https://sandbox.web.squarecdn.com/v1/square.js" nonce="[^"]+">', html)
    assert f'name="quantity-{line.id}" value="{line.quantity + 1}"' in html
    assert hidden(html, "expected_total") == "49.50"
    order.refresh_from_db()
    assert order.total == Decimal("33.00") and len(square_stub.charges()) == 1

    changed = filled.post(
        change_url,
        {**change, "expected_total": "49.50", "source_token": OK, "verification_token": "verf:stub-3ds"},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert changed.status_code == 302
    order.refresh_from_db()
    assert order.total == Decimal("49.50")
    first, difference = square_stub.charges()
    assert difference["amount_money"] == {"amount": 1650, "currency": "EUR"}
    sent = [r[3] for r in square_stub.requests if r[0] == "payments.create"][-1]
    assert sent["verification_token"] == "verf:stub-3ds" and sent["location_id"] == "LOC-VAISE"
    assert [(p.kind, p.status, p.amount) for p in order.payments.all()] == [
        ("charge", "succeeded", Decimal("33.00")),
        ("charge", "succeeded", Decimal("16.50")),
    ]


def test_with_square_a_difference_that_changed_meanwhile_is_not_charged(filled, vaise_on_square, square_stub):
    response, _data = checkout_post(filled, payment_method="card_online", source_token=OK)
    order = Order.objects.get()
    line = order.lines.get()

    refused = filled.post(
        f"{response['Location']}modifier/",
        {
            f"quantity-{line.id}": line.quantity + 1,
            "when": "asap",
            "expected_total": "40.00",
            "source_token": OK,
        },
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert refused.status_code == 409
    assert "Nouveau total 49,50\u00a0€, reste à payer 16,50\u00a0€" in page_text(refused)
    assert hidden(page_text(refused), "expected_total") == "49.50"
    order.refresh_from_db()
    assert order.total == Decimal("33.00") and len(square_stub.charges()) == 1

"""Money in the orders admin: refunds by a manager, payments handed over, the reconciliation report."""

import copy
import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from accounts.tests.factories import UserFactory
from ocpizza import roles
from ordering.models import Order, OrderEvent, Payment, PaymentReconciliation
from ordering.services import pay_order, refund_order
from stores.models import StoreRole
from stores.tests.factories import StoreMembershipFactory

from .factories import NOW, line, new_key, place

D = Decimal
OK = "cnon:card-nonce-ok"
KEY = "k7Qm2xYp-9aZr_4TbWc8"


@pytest.fixture
def manager(shop):
    user = UserFactory(email="romain@oc-pizza.fr", groups=[roles.STORE_MANAGERS])
    StoreMembershipFactory(user=user, store=shop.store, role=StoreRole.MANAGER)
    return user


@pytest.fixture
def head_office(db):
    return UserFactory(email="henri@oc-pizza.fr", groups=[roles.HEAD_OFFICE])


@pytest.fixture
def paid_order(shop):
    order = place(shop, [line(shop.small, 2), line(shop.beer_size)], payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    return order  # 22,00 € paid online


@pytest.fixture
def cash_order(shop):
    """A delivery of 27,50 € (a large and a small pizza, a beer, 2,50 € delivery), paid on delivery."""
    return place(
        shop,
        [line(shop.large), line(shop.small), line(shop.beer_size)],
        fulfilment="delivery",
        payment_method="cash",
    )


def refund_url(order):
    return f"/admin/commandes/{order.number}/rembourser/"


def record_url(order):
    return f"/admin/commandes/{order.number}/encaisser/"


def flash(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def customer_page(client, order):
    client.logout()
    return client.get(order.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr").content.decode()


# Refunds -----------------------------------------------------------------------------------------


def test_a_manager_refunds_an_order_in_full_from_the_admin(client, manager, paid_order):
    client.force_login(manager)
    assert client.get(refund_url(paid_order)).status_code == 200

    response = client.post(refund_url(paid_order), {"amount": "", "reason": "Pizza brûlée", "key": KEY})

    assert response.status_code == 302
    assert response["Location"] == f"/admin/commandes/{paid_order.number}/"
    assert flash(response) == [f"22,00\xa0€ remboursés sur la commande {paid_order.number}."]
    refund = Payment.objects.get(order=paid_order, kind="refund")
    assert (refund.amount, refund.status, refund.reason, refund.created_by) == (
        D("22.00"),
        "succeeded",
        "Pizza brûlée",
        manager,
    )
    order = Order.objects.get(pk=paid_order.pk)
    assert (order.payment_state, order.refunded_amount(), order.status) == (
        "refunded",
        D("22.00"),
        "received",
    )
    detail = client.get(f"/admin/commandes/{paid_order.number}/").content.decode()
    assert 'data-payment-state="refunded">Remboursée' in detail
    assert "Pizza brûlée" in detail
    assert f'data-payment="{refund.id}" data-kind="refund"' in detail


def test_a_manager_refunds_part_of_an_order_then_the_rest(client, manager, paid_order):
    client.force_login(manager)

    first = client.post(refund_url(paid_order), {"amount": "5,50", "reason": "Bière oubliée", "key": KEY})

    assert first.status_code == 302
    order = Order.objects.get(pk=paid_order.pk)
    assert (order.payment_state, order.refunded_amount()) == ("partially_refunded", D("5.50"))
    page = client.get(refund_url(paid_order))
    assert page.context["refundable"] == D("16.50")

    client.post(refund_url(paid_order), {"amount": "16.50", "reason": "Geste commercial", "key": KEY + "2"})

    order = Order.objects.get(pk=paid_order.pk)
    assert (order.payment_state, order.refunded_amount()) == ("refunded", D("22.00"))
    assert list(Payment.objects.filter(kind="refund").values_list("amount", "reason")) == [
        (D("5.50"), "Bière oubliée"),
        (D("16.50"), "Geste commercial"),
    ]
    notes = list(OrderEvent.objects.filter(order=paid_order).values_list("note", flat=True))
    assert notes[-2:] == [
        "Remboursement de 5,50\xa0€ : Bière oubliée",
        "Remboursement de 16,50\xa0€ : Geste commercial",
    ]


def test_after_a_refund_from_the_admin_the_customers_page_says_refunded(client, manager, paid_order):
    client.force_login(manager)
    client.post(refund_url(paid_order), {"amount": "", "reason": "Pizza brûlée", "key": KEY})

    html = customer_page(client, paid_order)

    assert 'data-payment-state="refunded"' in html
    assert "Remboursée" in html


def test_the_same_refund_form_posted_twice_refunds_once(client, manager, paid_order):
    client.force_login(manager)
    data = {"amount": "5,00", "reason": "Retard", "key": KEY}

    client.post(refund_url(paid_order), data)
    client.post(refund_url(paid_order), data)

    assert list(Payment.objects.filter(kind="refund").values_list("amount", flat=True)) == [D("5.00")]


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("22,01", "Vous pouvez rembourser au plus 22,00\xa0€."),
        ("100", "Vous pouvez rembourser au plus 22,00\xa0€."),
        ("0", "Le montant doit être supérieur à zéro."),
        ("0,00", "Le montant doit être supérieur à zéro."),
        ("-5", "Saisissez un montant en euros, par exemple 27,50."),
        ("5,005", "Un montant a au plus deux chiffres après la virgule."),
        ("abc", "Saisissez un montant en euros, par exemple 27,50."),
        ("1e3", "Saisissez un montant en euros, par exemple 27,50."),
        ("NaN", "Saisissez un montant en euros, par exemple 27,50."),
        ("12,50,3", "Saisissez un montant en euros, par exemple 27,50."),
        ("9" * 40, "Saisissez un montant en euros, par exemple 27,50."),
    ],
)
def test_a_wrong_refund_amount_is_refused_and_nothing_written(client, manager, paid_order, amount, error):
    client.force_login(manager)
    events = OrderEvent.objects.count()

    response = client.post(refund_url(paid_order), {"amount": amount, "reason": "Erreur", "key": KEY})

    assert response.status_code == 400
    assert response.context["form"].errors["amount"] == [error]
    assert error in response.content.decode()
    assert not Payment.objects.filter(kind="refund").exists()
    assert OrderEvent.objects.count() == events


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_refund_without_a_reason_is_refused(client, manager, paid_order, reason):
    client.force_login(manager)

    response = client.post(refund_url(paid_order), {"amount": "5", "reason": reason, "key": KEY})

    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == ["Indiquez le motif."]
    assert not Payment.objects.filter(kind="refund").exists()


def test_a_refund_form_without_its_key_is_refused(client, manager, paid_order):
    client.force_login(manager)

    response = client.post(refund_url(paid_order), {"amount": "5", "reason": "Retard"})

    assert response.status_code == 400
    assert response.context["form"].errors["key"] == ["Ce formulaire n'est plus valable : rechargez la page."]
    assert "Ce formulaire n&#x27;est plus valable : rechargez la page." in response.content.decode()
    assert not Payment.objects.filter(kind="refund").exists()


def test_an_order_paid_in_cash_has_nothing_to_refund(client, manager, cash_order):
    client.force_login(manager)

    detail = client.get(f"/admin/commandes/{cash_order.number}/")
    response = client.post(refund_url(cash_order), {"amount": "", "reason": "Erreur", "key": KEY})

    assert detail.context["can_refund"] is False
    assert response.status_code == 400
    assert response.context["form"].errors["amount"] == ["Il ne reste rien à rembourser sur cette commande."]


def test_a_refund_the_provider_refuses_is_shown_the_order_stays_paid_and_a_retry_is_new(
    client, manager, paid_order
):
    charge = Payment.objects.get(order=paid_order)
    Payment.objects.filter(pk=charge.pk).update(provider_reference="unknown-to-the-provider")
    client.force_login(manager)

    response = client.post(refund_url(paid_order), {"amount": "", "reason": "Pizza froide", "key": KEY})

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Le remboursement a été refusé par le prestataire de paiement : "
        "Paiement introuvable chez le prestataire."
    ]
    order = Order.objects.get(pk=paid_order.pk)
    assert (order.payment_state, order.refunded_amount()) == ("paid", D("0.00"))
    assert list(Payment.objects.filter(kind="refund").values_list("status", flat=True)) == ["failed"]
    assert f'value="{KEY}"' not in response.content.decode()  # the next attempt gets a new key

    Payment.objects.filter(pk=charge.pk).update(provider_reference=charge.provider_reference)
    again = client.post(refund_url(paid_order), {"amount": "", "reason": "Pizza froide", "key": KEY})
    assert again.status_code == 400  # the refused attempt's key: it is not sent again
    assert again.context["form"].non_field_errors() == [
        "Ce remboursement a été refusé : rechargez la page pour réessayer."
    ]
    retry = client.post(refund_url(paid_order), {"amount": "", "reason": "Pizza froide", "key": KEY + "b"})
    assert retry.status_code == 302
    assert Order.objects.get(pk=paid_order.pk).payment_state == "refunded"


def test_a_manager_without_the_payment_permission_gets_403_on_the_refund(client, paid_order, shop):
    """Holding the orders' view permission is not enough to move money."""
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.create(name="Lecture des commandes")
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["ordering", "wagtailadmin"],
            codename__in=["view_order", "access_admin"],
        )
    )
    reader = UserFactory(groups=["Lecture des commandes"])
    StoreMembershipFactory(user=reader, store=shop.store, role=StoreRole.MANAGER)
    client.force_login(reader)

    assert client.get(f"/admin/commandes/{paid_order.number}/").status_code == 200
    assert client.post(refund_url(paid_order), {"reason": "x", "key": KEY}).status_code == 403
    assert not Payment.objects.filter(kind="refund").exists()


# Payments handed over ----------------------------------------------------------------------------


def test_cash_of_30_euros_for_an_order_of_27_50_gives_2_50_back(client, manager, cash_order):
    client.force_login(manager)
    form = client.get(record_url(cash_order), HTTP_ACCEPT_LANGUAGE="fr")
    assert form.context["due"] == D("27.50")
    assert "data-due>27,50\xa0€" in form.content.decode()

    response = client.post(record_url(cash_order), {"method": "cash", "amount_received": "30"})

    assert response.status_code == 302
    assert flash(response) == ["Paiement de 27,50\xa0€ enregistré. Monnaie à rendre : 2,50\xa0€."]
    payment = Payment.objects.get(order=cash_order)
    assert (payment.kind, payment.method, payment.status, payment.created_by) == (
        "charge",
        "cash",
        "succeeded",
        manager,
    )
    assert (payment.amount, payment.amount_received, payment.change_given) == (
        D("27.50"),
        D("30.00"),
        D("2.50"),
    )
    detail = client.get(f"/admin/commandes/{cash_order.number}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "reçu 30,00\xa0€, rendu 2,50\xa0€" in detail
    assert 'data-payment-state="paid">Payée' in detail
    assert detail.count("Encaisser") == 0


def test_a_card_terminal_payment_is_of_the_amount_due(client, manager, cash_order):
    client.force_login(manager)

    refused = client.post(record_url(cash_order), {"method": "card_terminal", "amount_received": "30,00"})
    accepted = client.post(record_url(cash_order), {"method": "card_terminal", "amount_received": "27,50"})

    assert refused.status_code == 400
    assert refused.context["form"].errors["amount_received"] == [
        "Par carte ou par chèque, le montant reçu est le montant dû (27,50\xa0€)."
    ]
    assert accepted.status_code == 302
    payment = Payment.objects.get(order=cash_order)
    assert (payment.method, payment.amount, payment.change_given) == ("card_terminal", D("27.50"), D("0.00"))


def test_meal_vouchers_above_the_amount_due_give_no_change(client, manager, cash_order):
    client.force_login(manager)

    response = client.post(record_url(cash_order), {"method": "meal_voucher", "amount_received": "28,00"})

    assert response.status_code == 302
    assert flash(response) == ["Paiement de 27,50\xa0€ enregistré."]
    payment = Payment.objects.get(order=cash_order)
    assert (payment.amount_received, payment.change_given) == (D("28.00"), D("0.00"))


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        (
            {"method": "cash", "amount_received": "20"},
            "amount_received",
            "Le montant reçu est inférieur au montant dû (27,50\xa0€).",
        ),
        ({"method": "cash", "amount_received": ""}, "amount_received", "Indiquez le montant reçu."),
        (
            {"method": "cash", "amount_received": "30,001"},
            "amount_received",
            "Un montant a au plus deux chiffres après la virgule.",
        ),
        ({"method": "bitcoin", "amount_received": "30"}, "method", "Moyen de paiement inconnu."),
        ({"method": "card_online", "amount_received": "27,50"}, "method", "Moyen de paiement inconnu."),
        ({"amount_received": "30"}, "method", "Choisissez le moyen de paiement."),
    ],
)
def test_a_wrong_hand_over_payment_is_refused_and_nothing_written(
    client, manager, cash_order, data, field, error
):
    client.force_login(manager)

    response = client.post(record_url(cash_order), data)

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [error]
    assert not Payment.objects.exists()
    assert OrderEvent.objects.filter(order=cash_order).count() == 1


def test_a_paid_order_cannot_be_paid_again(client, manager, cash_order, paid_order):
    client.force_login(manager)
    client.post(record_url(cash_order), {"method": "cash", "amount_received": "30"})

    again = client.post(record_url(cash_order), {"method": "cash", "amount_received": "30"})
    online = client.post(record_url(paid_order), {"method": "cash", "amount_received": "30"})

    for response in (again, online):
        assert response.status_code == 400
        assert response.context["form"].non_field_errors() == ["Cette commande est déjà payée."]
    assert Payment.objects.filter(order=cash_order).count() == 1


def test_a_cancelled_order_cannot_be_paid(client, manager, cash_order):
    client.force_login(manager)
    client.post(f"/admin/commandes/{cash_order.number}/annuler/", {"reason": "Client injoignable"})

    response = client.post(record_url(cash_order), {"method": "cash", "amount_received": "30"})

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Cette commande est annulée : elle ne peut plus être payée."
    ]
    assert not Payment.objects.exists()


def test_no_payment_is_recorded_beside_a_refunded_card_payment(client, manager, paid_order):
    refund_order(paid_order, reason="Geste", user=manager, idempotency_key=new_key(), now=NOW)
    client.force_login(manager)

    detail = client.get(f"/admin/commandes/{paid_order.number}/")
    response = client.post(record_url(paid_order), {"method": "cash", "amount_received": "22"})

    assert detail.context["can_record"] is False
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["Cette commande est déjà payée."]
    assert not Payment.objects.filter(method="cash").exists()


def test_a_refunded_order_shows_what_was_paid_and_nothing_due(client, manager, paid_order):
    """A refund gives money back: it is no debt of the customer (the driver must not collect it)."""
    client.force_login(manager)
    client.post(refund_url(paid_order), {"amount": "5,50", "reason": "Bière oubliée", "key": KEY})

    detail = client.get(f"/admin/commandes/{paid_order.number}/")
    html = detail.content.decode()
    assert "data-paid>22,00\xa0€" in html and "data-refunded>5,50\xa0€" in html
    assert detail.context["due"] == D("0.00") and "data-due" not in html
    client.post(refund_url(paid_order), {"amount": "", "reason": "Geste commercial", "key": KEY + "2"})
    detail = client.get(f"/admin/commandes/{paid_order.number}/")
    assert detail.context["due"] == D("0.00") and "data-due" not in detail.content.decode()
    record = client.get(record_url(paid_order)).content.decode()
    assert "data-paid>22,00\xa0€" in record and "data-due>0,00\xa0€" in record


def test_the_service_records_no_hand_over_payment_for_what_a_manager_refunded(manager, paid_order):
    from ordering.services import TransitionError, record_payment

    refund_order(
        paid_order, amount=D("5.50"), reason="Geste", user=manager, idempotency_key=new_key(), now=NOW
    )

    with pytest.raises(TransitionError, match="Cette commande est déjà payée."):
        record_payment(paid_order, method="cash", amount_received=D("5.50"), user=manager, now=NOW)
    assert not Payment.objects.filter(method="cash").exists()


def test_the_record_page_of_an_order_that_cannot_take_a_payment_says_why_at_once(client, manager, paid_order):
    client.force_login(manager)

    html = client.get(record_url(paid_order)).content.decode()

    assert '<p class="stock-errors" role="alert">Cette commande est déjà payée.</p>' in html


# The payment state of the list is the order's --------------------------------------------------


def test_the_list_shows_the_same_payment_state_as_the_order(client, manager, shop, paid_order, cash_order):
    partly = place(shop, payment_method="card_online")
    pay_order(partly, source_token=OK, idempotency_key=new_key(), now=NOW)
    refund_order(partly, amount=D("1.00"), reason="Geste", user=manager, idempotency_key=new_key(), now=NOW)
    refunded = place(shop, payment_method="card_online")
    pay_order(refunded, source_token=OK, idempotency_key=new_key(), now=NOW)
    refund_order(refunded, reason="Erreur", user=manager, idempotency_key=new_key(), now=NOW)
    pending = place(shop, payment_method="card_online")
    Payment.objects.create(
        order=pending,
        kind="charge",
        method="card_online",
        provider="simulator",
        amount=pending.total,
        idempotency_key=new_key(),
        created_at=NOW,
    )
    client.force_login(manager)

    listed = {o.number: o.payment_state_value for o in client.get("/admin/commandes/").context["page_obj"]}

    expected = {o.number: o.payment_state for o in Order.objects.prefetch_related("payments")}
    assert listed == expected
    assert set(listed.values()) == {"paid", "unpaid", "partially_refunded", "refunded", "pending"}


# Reconciliation report ---------------------------------------------------------------------------


@pytest.fixture
def reconciliations(db):
    older = PaymentReconciliation.objects.create(ran_at=NOW - datetime.timedelta(hours=1), days=7, checked=3)
    latest = PaymentReconciliation.objects.create(
        ran_at=NOW,
        days=7,
        checked=12,
        repaired=1,
        findings=[
            {
                "order": "VAI-1125-004",
                "payment": "sq-pay-1",
                "problem": "charged_not_recorded",
                "detail": "Payée chez le prestataire, pas chez nous",
                "action": "repaired",
            },
            {
                "order": "VAI-1125-007",
                "payment": "sq-pay-2",
                "problem": "failed_at_provider",
                "detail": "Échouée chez le prestataire, réussie chez nous",
                "action": "reported",
            },
        ],
    )
    return latest, older


def test_head_office_reads_the_reconciliation_report(client, head_office, reconciliations, shop):
    client.force_login(head_office)
    assert "/admin/commandes/rapprochement/" in client.get("/admin/commandes/").content.decode()

    response = client.get("/admin/commandes/rapprochement/", HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["runs"] == list(reconciliations)
    assert "Échouée chez le prestataire, réussie chez nous" in html
    assert 'data-finding-action="reported"' in html
    assert "VAI-1125-004" in html and "sq-pay-2" in html


def test_the_reconciliation_report_says_when_it_never_ran(client, head_office, shop):
    client.force_login(head_office)

    response = client.get("/admin/commandes/rapprochement/", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 200
    assert "Le rapprochement n'a pas encore tourné." in response.content.decode()


def test_a_manager_gets_403_on_the_reconciliation_report(client, manager, reconciliations):
    client.force_login(manager)

    assert "/admin/commandes/rapprochement/" not in client.get("/admin/commandes/").content.decode()
    assert client.get("/admin/commandes/rapprochement/").status_code == 403


@pytest.fixture
def strict_templates(settings):
    """An undefined template variable shows in the page instead of silently empty."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = "TEMPLATE-ERROR[%s]"
    settings.TEMPLATES = templates


# Variables Wagtail's own templates read unset (its page header and dialogs), whatever the view.
WAGTAIL_OWN = re.compile(r"TEMPLATE-ERROR\[(icon_classname|classname|extra_rows|merged|search_form)\]")


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_orders_admin_page_renders_without_template_errors(
    client, head_office, manager, paid_order, cash_order, reconciliations, strict_templates, language
):
    refund_order(paid_order, amount=D("2.00"), reason="Geste", user=manager, idempotency_key=new_key())
    client.post(record_url(cash_order), {"method": "cash", "amount_received": "30"})
    client.force_login(head_office)
    pages = ["/admin/commandes/", "/admin/commandes/?status=bogus&day=x", "/admin/commandes/rapprochement/"]
    for order in (paid_order, cash_order):
        pages += [
            f"/admin/commandes/{order.number}/{action}"
            for action in ("", "rembourser/", "encaisser/", "annuler/")
        ]

    for page in pages:
        response = client.get(page, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, page
        html = WAGTAIL_OWN.sub("", response.content.decode())
        assert "TEMPLATE-ERROR" not in html, page


def test_a_refund_from_the_admin_goes_through_square_once(client, manager, shop, square_stub):
    shop.store.payment_location_id = "LOC-VAISE"
    shop.store.save()
    order = place(shop, payment_method="card_online")
    pay_order(order, source_token=OK, idempotency_key=new_key(), now=NOW)
    client.force_login(manager)
    data = {"amount": "5,50", "reason": "Bière oubliée", "key": KEY}

    first = client.post(refund_url(order), data)
    second = client.post(refund_url(order), data)  # the same form posted again

    assert (first.status_code, second.status_code) == (302, 302)
    assert [refund["amount_money"] for refund in square_stub.refunds.values()] == [
        {"amount": 550, "currency": "EUR"}
    ]
    refund = Payment.objects.get(order=order, kind="refund")
    assert (refund.provider, refund.amount, refund.status) == ("square", D("5.50"), "succeeded")
    assert refund.provider_reference in square_stub.refunds
    assert Order.objects.get(pk=order.pk).payment_state == "partially_refunded"

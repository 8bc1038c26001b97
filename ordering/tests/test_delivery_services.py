"""The delivery's services: a driver gets ready orders, leaves with their round, and the order is
handed over (delivered or collected) only with what it owes recorded, in one transaction."""

from decimal import Decimal

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from ordering.exceptions import OrderError, TransitionError
from ordering.models import Order, OrderEvent, Payment
from ordering.services import (
    assign_driver,
    cancel_order,
    mark_collected,
    mark_delivered,
    mark_ready,
    pay_order,
    send_out,
    send_out_round,
    start_preparing,
    store_drivers,
)
from stores.models import StoreRole
from stores.tests.factories import StorePageFactory

from .delivery_helpers import crew, ready
from .factories import NOW, line, new_key, place

Status = Order.Status
D = Decimal


@pytest.fixture
def other_store(shop, store_index):
    return StorePageFactory(parent=store_index, title="OC Pizza Bellecour", slug="bellecour")


@pytest.fixture
def driver(shop):
    return crew(StoreRole.DRIVER, shop.store, first_name="Lucas", last_name="Livreur")


@pytest.fixture
def manager(shop):
    return crew(StoreRole.MANAGER, shop.store)


def snapshot(order):
    """Everything a refused step must leave untouched."""
    order.refresh_from_db()
    return (
        order.status,
        order.version,
        order.driver_id,
        order.updated_at,
        OrderEvent.objects.filter(order=order).count(),
        Payment.objects.filter(order=order).count(),
        len(mail.outbox),
    )


def out_with(shop, driver, **fields):
    order = ready(shop, **fields)
    assign_driver(order, driver=driver, now=NOW)
    return send_out(order, now=NOW)


# Assigning -------------------------------------------------------------------------------------


def test_a_ready_delivery_is_given_to_a_driver_of_its_store(shop, driver, manager):
    order = ready(shop)

    assign_driver(order, driver=driver, user=manager, now=NOW)

    order.refresh_from_db()
    assert (order.driver, order.status, order.version) == (driver, Status.READY, 4)
    event = order.events.last()
    assert (event.from_status, event.to_status, event.user, event.note) == (
        "ready",
        "ready",
        manager,
        "Confiée à Lucas Livreur",
    )


def test_giving_it_to_the_same_driver_again_writes_nothing(shop, driver):
    order = ready(shop)
    assign_driver(order, driver=driver, now=NOW)
    was = snapshot(order)

    assign_driver(order, driver=driver, now=NOW)

    assert snapshot(order) == was


def test_a_driver_is_taken_back_and_the_order_given_to_another(shop, driver):
    other = crew(StoreRole.DRIVER, shop.store)
    order = ready(shop)
    assign_driver(order, driver=driver, now=NOW)

    assign_driver(order, driver=None, now=NOW)
    assert Order.objects.get().driver is None
    assign_driver(order, driver=other, now=NOW)

    assert Order.objects.get().driver == other
    assert list(order.events.values_list("note", flat=True))[-3:] == [
        "Confiée à Lucas Livreur",
        "Livreur retiré",
        f"Confiée à {other.get_full_name()}",
    ]


def test_two_drivers_taking_the_same_order_at_once_the_second_is_refused(shop, driver):
    """Both read the order unassigned; the first takes it; the second's take is checked under
    the order's lock and refused, nothing written."""
    other = crew(StoreRole.DRIVER, shop.store)
    order = ready(shop)
    seen_by_other = Order.objects.get(pk=order.pk)  # read before the first driver took it
    assign_driver(order, driver=driver, unless_taken=True, now=NOW)
    was = snapshot(order)

    with pytest.raises(OrderError) as refused:
        assign_driver(seen_by_other, driver=other, unless_taken=True, now=NOW)

    assert str(refused.value) == "Cette commande est confiée à un autre livreur."
    assert snapshot(order) == was
    assert Order.objects.get(pk=order.pk).driver == driver


@pytest.mark.parametrize("role", [StoreRole.MANAGER, StoreRole.STAFF, StoreRole.PIZZAIOLO])
def test_someone_who_is_not_a_driver_of_the_store_is_refused(shop, role):
    order = ready(shop)
    colleague = crew(role, shop.store, first_name="Emma", last_name="Équipière")
    was = snapshot(order)

    with pytest.raises(OrderError) as refused:
        assign_driver(order, driver=colleague, now=NOW)

    assert str(refused.value) == "Emma Équipière n'est pas livreur de OC Pizza Vaise."
    assert snapshot(order) == was


def test_a_driver_of_another_store_is_refused(shop, other_store):
    order = ready(shop)
    elsewhere = crew(StoreRole.DRIVER, other_store, first_name="Nina", last_name="Ailleurs")
    was = snapshot(order)

    with pytest.raises(OrderError, match="Nina Ailleurs n'est pas livreur de OC Pizza Vaise."):
        assign_driver(order, driver=elsewhere, now=NOW)

    assert snapshot(order) == was


def test_an_inactive_driver_is_refused_and_not_offered(shop, driver):
    driver.is_active = False
    driver.save()
    order = ready(shop)

    with pytest.raises(OrderError, match="n'est pas livreur"):
        assign_driver(order, driver=driver, now=NOW)
    assert list(store_drivers(shop.store)) == []


def test_a_pickup_order_gets_no_driver(shop, driver):
    order = ready(shop, fulfilment="pickup")
    was = snapshot(order)

    with pytest.raises(TransitionError) as refused:
        assign_driver(order, driver=driver, now=NOW)

    assert str(refused.value) == "La commande VAI-1125-001 est à emporter : elle n'a pas de livreur."
    assert snapshot(order) == was


@pytest.mark.parametrize("state", ["preparing", "cancelled", "out_for_delivery"])
def test_only_a_ready_order_is_assigned(shop, driver, state):
    order = ready(shop)
    if state == "preparing":
        order = Order.objects.get()
        order.status = Status.PREPARING  # as if the kitchen had not finished it yet
        order.save()
    elif state == "cancelled":
        cancel_order(order, reason="Client injoignable", now=NOW)
    else:
        send_out(order, now=NOW)
    was = snapshot(order)

    with pytest.raises(TransitionError, match="ne peut pas être confiée à un livreur : elle est"):
        assign_driver(order, driver=driver, now=NOW)

    assert snapshot(order) == was


# Sending out a round ---------------------------------------------------------------------------


def test_a_round_leaves_together(shop, driver):
    first, second = ready(shop), ready(shop, street="3 rue Marietton")
    for order in (first, second):
        assign_driver(order, driver=driver, now=NOW)

    send_out_round([second, first], driver=driver, user=driver, now=NOW)

    assert list(Order.objects.order_by("id").values_list("status", flat=True)) == [
        Status.OUT_FOR_DELIVERY,
        Status.OUT_FOR_DELIVERY,
    ]
    assert [email.subject for email in mail.outbox] == []  # sent after commit (none in this test)


def test_a_round_with_an_order_of_someone_else_leaves_not_at_all(shop, driver):
    other = crew(StoreRole.DRIVER, shop.store)
    mine, theirs = ready(shop), ready(shop, street="3 rue Marietton")
    assign_driver(mine, driver=driver, now=NOW)
    assign_driver(theirs, driver=other, now=NOW)
    was = snapshot(mine), snapshot(theirs)

    with pytest.raises(TransitionError) as refused:
        send_out_round([mine, theirs], driver=driver, now=NOW)

    assert str(refused.value) == (
        f"La commande {theirs.number} n'est pas confiée à Lucas Livreur : rechargez la page."
    )
    assert (snapshot(mine), snapshot(theirs)) == was


def test_a_round_with_a_cancelled_order_leaves_not_at_all(shop, driver):
    kept, cancelled = ready(shop), ready(shop, street="3 rue Marietton")
    for order in (kept, cancelled):
        assign_driver(order, driver=driver, now=NOW)
    cancel_order(cancelled, reason="Client injoignable", now=NOW)
    was = snapshot(kept)

    with pytest.raises(TransitionError, match="ne peut pas partir en livraison : elle est annulée"):
        send_out_round([kept, cancelled], driver=driver, now=NOW)

    assert snapshot(kept) == was


def test_an_empty_round_is_refused(shop, driver):
    with pytest.raises(OrderError, match="Aucune commande prête pour ce livreur."):
        send_out_round([], driver=driver, now=NOW)


def test_a_delivered_order_never_goes_out_again(shop, driver):
    order = out_with(shop, driver)
    mark_delivered(order, payment_method="cash", amount_received="20.50", now=NOW)
    was = snapshot(order)

    with pytest.raises(TransitionError) as refused:
        send_out(order, now=NOW)

    assert str(refused.value) == "La commande VAI-1125-001 ne peut pas partir en livraison : elle est livrée."
    assert snapshot(order) == was


def test_a_pickup_order_is_not_sent_out(shop, driver):
    order = ready(shop, fulfilment="pickup")
    was = snapshot(order)

    with pytest.raises(TransitionError, match="est à emporter : elle ne part pas en livraison"):
        send_out(order, now=NOW)

    assert snapshot(order) == was


# Handing over: delivered, collected ------------------------------------------------------------


def test_delivered_with_cash_records_the_change(shop, driver):
    order = out_with(shop, driver)

    mark_delivered(order, payment_method="cash", amount_received="50", user=driver, now=NOW)

    order.refresh_from_db()
    payment = order.payments.get()
    assert order.status == Status.DELIVERED
    assert (payment.method, payment.amount, payment.amount_received, payment.change_given) == (
        "cash",
        D("20.50"),
        D("50.00"),
        D("29.50"),
    )
    assert payment.created_by == driver
    assert list(order.events.values_list("to_status", "note"))[-2:] == [
        ("out_for_delivery", "Paiement reçu : 20,50\u00a0€ (espèces) – monnaie rendue 29,50\u00a0€"),
        ("delivered", ""),
    ]
    assert order.amount_due() == D("0.00")


def test_delivered_with_a_card_terminal_for_the_exact_amount(shop, driver):
    order = out_with(shop, driver)

    mark_delivered(order, payment_method="card_terminal", amount_received="20,50", now=NOW)

    payment = Payment.objects.get()
    assert (payment.method, payment.amount, payment.change_given) == ("card_terminal", D("20.50"), D("0.00"))


def test_an_unpaid_order_is_not_delivered_without_its_payment(shop, driver):
    order = out_with(shop, driver)
    was = snapshot(order)

    with pytest.raises(OrderError) as refused:
        mark_delivered(order, now=NOW)

    assert str(refused.value) == (
        "La commande VAI-1125-001 n'est pas payée : encaissez 20,50\u00a0€ (moyen de paiement et "
        "montant reçu) avant de la marquer livrée."
    )
    assert snapshot(order) == was


@pytest.mark.parametrize(
    ("method", "received", "message"),
    [
        ("cash", "20", "Le montant reçu ne couvre pas les 20,50\u00a0€ dus."),
        ("card_terminal", "25", "Le montant reçu doit être exactement de 20,50\u00a0€."),
        ("cash", "vingt", "Indiquez le montant reçu."),
        ("card_online", "20.50", "Choisissez le moyen de paiement remis."),
        ("", "20.50", "Choisissez le moyen de paiement remis."),
    ],
)
def test_a_refused_payment_delivers_nothing(shop, driver, method, received, message):
    order = out_with(shop, driver)
    was = snapshot(order)

    with pytest.raises(OrderError) as refused:
        mark_delivered(order, payment_method=method, amount_received=received, now=NOW)

    assert str(refused.value) == message
    assert snapshot(order) == was


def test_an_order_paid_online_is_delivered_without_payment_and_refuses_a_second_one(shop, driver):
    order = place(shop, [line(shop.small, 2)], fulfilment="delivery", payment_method="card_online")
    pay_order(order, source_token="cnon:card-nonce-ok", idempotency_key=new_key(), now=NOW)
    start_preparing(order, now=NOW)
    mark_ready(order, now=NOW)
    assign_driver(order, driver=driver, now=NOW)
    send_out(order, now=NOW)
    was = snapshot(order)

    with pytest.raises(TransitionError, match="Cette commande est déjà payée."):
        mark_delivered(order, payment_method="cash", amount_received="20.50", now=NOW)
    assert snapshot(order) == was

    mark_delivered(order, now=NOW)
    assert Order.objects.get().status == Status.DELIVERED


def test_a_cancelled_order_is_not_delivered(shop, driver):
    order = out_with(shop, driver)
    cancel_order(order, reason="Adresse introuvable", now=NOW)
    was = snapshot(order)

    with pytest.raises(TransitionError, match="ne peut pas être livrée : elle est annulée"):
        mark_delivered(order, payment_method="cash", amount_received="20.50", now=NOW)

    assert snapshot(order) == was


def test_a_pickup_is_collected_with_its_payment_at_the_counter(shop, manager):
    order = ready(shop, fulfilment="pickup")

    mark_collected(order, payment_method="cash", amount_received="20", user=manager, now=NOW)

    order.refresh_from_db()
    assert order.status == Status.COLLECTED
    assert order.payments.get().change_given == D("2.00")  # two small pizzas: 18,00 €


def test_an_unpaid_pickup_is_not_collected_without_its_payment(shop):
    order = ready(shop, fulfilment="pickup")
    was = snapshot(order)

    with pytest.raises(OrderError, match="avant de la marquer retirée"):
        mark_collected(order, now=NOW)

    assert snapshot(order) == was


def test_a_user_without_membership_is_no_driver(shop):
    assert list(store_drivers(shop.store)) == []
    UserFactory()
    assert list(store_drivers(shop.store)) == []

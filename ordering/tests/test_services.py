"""Placing an order and every transition of its life, through the services, on a real database."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail

from accounts.tests.factories import UserFactory
from ordering.exceptions import OrderError, PriceChanged, TransitionError
from ordering.models import Order, OrderEvent, OrderLine
from ordering.services import (
    Address,
    Contact,
    cancel_order,
    change_order,
    mark_collected,
    mark_delivered,
    mark_ready,
    send_out,
    start_preparing,
)
from stores.models import StockLevel, StockMovement
from stores.services import withdraw_product

from .factories import NOW, configure, line, new_key, place

D = Decimal
Status = Order.Status


def level(shop, ingredient):
    found = StockLevel.objects.get(store=shop.store, ingredient=ingredient)
    return found.on_hand, found.reserved


def snapshot(order):
    """Everything a refused transition must leave untouched."""
    order.refresh_from_db()
    return (
        order.status,
        order.version,
        order.updated_at,
        OrderEvent.objects.filter(order=order).count(),
        StockMovement.objects.count(),
        len(mail.outbox),
    )


# Placing ---------------------------------------------------------------------------------------


def test_placing_an_order_copies_what_was_sold_and_reserves_its_ingredients(shop):
    order = place(shop, [line(shop.small, 2, shop.extra), line(shop.beer_size, 1)])

    assert order.number == "VAI-1125-001"
    assert (order.status, order.version, order.store_name) == (Status.RECEIVED, 1, "OC Pizza Vaise")
    assert (order.subtotal, order.total) == (D("25.00"), D("25.00"))
    assert order.asap
    assert order.slot_start == NOW + datetime.timedelta(minutes=30)  # first slot after 20 minutes
    assert order.promised_at == order.slot_start
    pizza, beer = order.lines.all()
    assert (pizza.product_name, pizza.size_name, pizza.quantity, pizza.unit_price, pizza.total) == (
        "Margherita",
        "Petite",
        2,
        D("10.50"),
        D("21.00"),
    )
    assert pizza.extras == [
        {"id": shop.extra.id, "name": "Supplément mozzarella", "kind": "add", "price": "1.50"}
    ]
    assert (pizza.vat_rate, beer.vat_rate) == (D("10.00"), D("20.00"))
    assert (pizza.product, pizza.size) == (shop.pizza, shop.small)
    assert list(order.events.values_list("from_status", "to_status")) == [("", "received")]
    # 2 × (100 g + 50 g of supplement) of cheese, one beer.
    assert level(shop, shop.cheese) == (5000, 300)
    assert level(shop, shop.beer_stock) == (20, 1)
    assert set(
        StockMovement.objects.filter(kind="reservation").values_list("order_reference", flat=True)
    ) == {"VAI-1125-001"}


def test_numbers_count_per_store_and_day(shop, home_page, store_index, menu_page):
    first = place(shop)
    second = place(shop)
    next_day = place(shop, now=NOW + datetime.timedelta(days=1))

    assert [first.number, second.number, next_day.number] == ["VAI-1125-001", "VAI-1125-002", "VAI-1126-001"]


def test_a_delivery_order_keeps_its_address_fee_and_later_promise(shop):
    order = place(shop, [line(shop.small, 2)], fulfilment="delivery")

    assert (order.street_address, order.postcode, order.city, order.address_details) == (
        "12 rue de Bourgogne",
        "69009",
        "Lyon",
        "2e étage",
    )
    assert (order.delivery_fee, order.total) == (D("2.50"), D("20.50"))
    assert order.promised_at == order.slot_start + datetime.timedelta(minutes=20)


def test_an_order_for_a_chosen_slot(shop):
    slot = NOW.replace(hour=19, minute=45)

    order = place(shop, slot=slot)

    assert (order.asap, order.slot_start, order.promised_at) == (False, slot, slot)


def test_the_customer_and_their_email_are_kept(shop):
    customer = UserFactory(email="lea@example.fr")

    order = place(shop, customer=customer, contact=Contact(name="Léa", phone="0612345678"))

    assert (order.customer, order.contact_email) == (customer, "lea@example.fr")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"address": Address("1 quai Rambaud", "69002", "Lyon")},
            "OC Pizza Vaise ne livre pas cette adresse (69002 Lyon). Vous pouvez retirer votre "
            "commande sur place, ou la commander à une autre pizzeria.",
        ),
        ({"address": None}, "Indiquez l'adresse de livraison."),
        ({"address": Address("1 quai", "6900", "Lyon")}, "Indiquez un code postal à 5 chiffres."),
    ],
)
def test_a_delivery_outside_the_area_is_refused_with_a_pickup_offer(shop, overrides, message):
    with pytest.raises(OrderError) as refused:
        place(shop, [line(shop.small, 2)], fulfilment="delivery", **overrides)

    assert str(refused.value) == message
    assert not Order.objects.exists()
    assert level(shop, shop.cheese) == (5000, 0)


def test_a_delivery_below_the_minimum_is_refused(shop):
    with pytest.raises(OrderError, match="Le minimum de commande en livraison est de 15,00"):
        place(shop, [line(shop.small, 1)], fulfilment="delivery")

    assert not Order.objects.exists()


def test_an_unavailable_product_is_refused(shop):
    withdraw_product(store=shop.store, product=shop.beer, user=None)

    with pytest.raises(OrderError) as refused:
        place(shop, [line(shop.small, 1), line(shop.beer_size, 1)])

    assert str(refused.value) == "Bière blonde n'est pas disponible pour le moment dans cette pizzeria."
    assert not Order.objects.exists()
    assert not StockMovement.objects.filter(kind="reservation").exists()


def test_a_product_out_of_stock_is_refused(shop):
    with pytest.raises(OrderError, match="Bière blonde \\(33 cl\\) : il n'en reste que 20."):
        place(shop, [line(shop.beer_size, 21)])

    assert not Order.objects.exists()


def test_a_full_slot_is_refused(shop):
    configure(shop.store, slot_capacity=2)
    slot = NOW.replace(hour=19, minute=0)
    place(shop, slot=slot)
    place(shop, slot=slot)

    with pytest.raises(OrderError, match="Ce créneau est complet : choisissez-en un autre."):
        place(shop, slot=slot)

    assert Order.objects.count() == 2


def test_a_cancelled_order_frees_its_place_in_the_slot(shop):
    configure(shop.store, slot_capacity=1)
    slot = NOW.replace(hour=19, minute=0)
    cancel_order(place(shop, slot=slot), by_customer=True, now=NOW)

    assert place(shop, slot=slot).slot_start == slot


def test_as_soon_as_possible_follows_the_kitchens_queue(shop):
    configure(shop.store, slot_capacity=1)

    promised = [place(shop, now=NOW).promised_at for _number in range(3)]

    assert [time.strftime("%H:%M") for time in promised] == ["12:30", "12:45", "13:00"]


@pytest.mark.parametrize(
    ("slot", "message"),
    [
        (NOW.replace(hour=11, minute=30), "Ce créneau est passé ou trop proche : choisissez-en un autre."),
        (NOW.replace(hour=12, minute=15), "Ce créneau est passé ou trop proche : choisissez-en un autre."),
        (
            NOW.replace(hour=23, minute=0),
            "La pizzeria est fermée à cette heure-là : choisissez un autre créneau.",
        ),
        (
            NOW.replace(hour=19, minute=7),
            "La pizzeria est fermée à cette heure-là : choisissez un autre créneau.",
        ),
        (NOW + datetime.timedelta(days=30), "Ce créneau est trop lointain : choisissez-en un autre."),
    ],
)
def test_a_slot_outside_what_can_be_chosen_is_refused(shop, slot, message):
    with pytest.raises(OrderError) as refused:
        place(shop, slot=slot)

    assert str(refused.value) == message


def test_a_closed_store_refuses_as_soon_as_possible(shop):
    with pytest.raises(OrderError) as refused:
        place(shop, now=NOW.replace(hour=8))

    assert str(refused.value) == "La pizzeria est fermée en ce moment : choisissez un créneau pour plus tard."
    # ... but takes an order for later in the day.
    assert place(shop, now=NOW.replace(hour=8), slot=NOW.replace(hour=12)).status == Status.RECEIVED


def test_a_payment_method_the_store_does_not_take_is_refused(shop):
    configure(shop.store, accepted_payments=["cash"], online_payment=False)

    for method in ("cheque", "card_online", "bitcoin"):
        with pytest.raises(OrderError):
            place(shop, payment_method=method)

    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("contact", "message"),
    [
        (("", "0612345678", "a@example.fr"), "Indiquez votre nom."),
        (("Camille", "abc", "a@example.fr"), "Indiquez un numéro de téléphone valable."),
        (("Camille", "-- -- --", "a@example.fr"), "Indiquez un numéro de téléphone valable."),
        (("Camille", "0612345678", "pas-une-adresse"), "Indiquez une adresse e-mail valable."),
        (("Camille", "0612345678", ""), "Indiquez votre adresse e-mail : nous y envoyons la confirmation."),
    ],
)
def test_the_contact_is_checked(shop, contact, message):
    with pytest.raises(OrderError) as refused:
        place(shop, contact=Contact(*contact))

    assert str(refused.value) == message


def test_a_price_changed_since_the_cart_was_filled_is_shown_before_placing(shop):
    with pytest.raises(PriceChanged) as changed:
        place(shop, [line(shop.small, 2)], expected_total="17.00")

    assert (
        str(changed.value)
        == "Le total a changé depuis que vous avez rempli votre panier : il est maintenant de 18,00\xa0€."
    )
    assert changed.value.quote.total == D("18.00")
    assert not Order.objects.exists()
    assert place(shop, [line(shop.small, 2)], expected_total=D("18.00")).total == D("18.00")


def test_a_tampered_extra_is_refused_when_placing(shop):
    with pytest.raises(OrderError, match="Cette option n'existe pas pour Bière blonde."):
        place(shop, [line(shop.beer_size, 1, shop.extra)])

    assert not Order.objects.exists()


def test_a_promotion_code_that_does_not_exist_is_refused(shop):
    with pytest.raises(OrderError, match="Code promotionnel inconnu ou expiré."):
        place(shop, code="NOPE2026")


def test_a_store_that_is_not_live_takes_no_order(shop):
    shop.store.unpublish()

    with pytest.raises(OrderError, match="Cette pizzeria ne prend pas de commande."):
        place(shop)


# Idempotency -----------------------------------------------------------------------------------


def test_the_same_key_twice_gives_one_order(shop):
    key = new_key()

    first = place(shop, idempotency_key=key)
    second = place(shop, idempotency_key=key, lines=[line(shop.large, 5)])

    assert second == first
    assert Order.objects.count() == 1
    assert OrderLine.objects.count() == 1
    assert level(shop, shop.cheese) == (5000, 200)


def test_the_same_key_again_gives_the_order_after_the_store_stopped_taking_cash(shop):
    from stores.hours import ordering_settings

    key = new_key()
    first = place(shop, idempotency_key=key)
    settings = ordering_settings(shop.store)
    settings.accepted_payments = ["card_terminal"]
    settings.save()

    assert place(shop, idempotency_key=key) == first  # a retry of the placed order, not a new one
    assert Order.objects.count() == 1


def test_another_customers_key_is_refused(shop):
    key = new_key()
    place(shop, idempotency_key=key, customer=UserFactory())

    with pytest.raises(OrderError):
        place(shop, idempotency_key=key, customer=UserFactory())


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "espace dedans", None])
def test_a_missing_or_malformed_key_is_refused(shop, key):
    with pytest.raises(OrderError, match="Ce formulaire n'est pas valable : rechargez la page."):
        place(shop, idempotency_key=key)


# Transitions -----------------------------------------------------------------------------------


def test_an_order_for_delivery_goes_through_its_life(shop):
    cook, driver = UserFactory(), UserFactory()
    order = place(shop, [line(shop.small, 2)], fulfilment="delivery")

    start_preparing(order, user=cook, now=NOW)
    assert order.status == Status.PREPARING
    mark_ready(order, user=cook, now=NOW)
    send_out(order, user=driver, now=NOW)
    mark_delivered(order, payment_method="cash", amount_received="30", user=driver, now=NOW)

    order.refresh_from_db()
    assert (order.status, order.version) == (Status.DELIVERED, 6)
    assert list(order.events.values_list("from_status", "to_status", "user")) == [
        ("", "received", None),
        ("received", "preparing", cook.id),
        ("preparing", "ready", cook.id),
        ("ready", "out_for_delivery", driver.id),
        ("out_for_delivery", "out_for_delivery", driver.id),  # the cash handed over
        ("out_for_delivery", "delivered", driver.id),
    ]


def handed_over(transition):
    """`transition` (mark_delivered, mark_collected) with the cash the unpaid order owes."""
    return lambda order, now: transition(order, payment_method="cash", amount_received=order.total, now=now)


def test_an_order_for_pickup_is_collected(shop):
    order = place(shop)
    for transition in (start_preparing, mark_ready, handed_over(mark_collected)):
        transition(order, now=NOW)

    assert Order.objects.get().status == Status.COLLECTED


def test_starting_preparation_consumes_the_reservation(shop):
    order = place(shop, [line(shop.small, 2)])

    start_preparing(order, now=NOW)

    assert level(shop, shop.cheese) == (4800, 0)
    assert level(shop, shop.dough) == (9600, 0)


ILLEGAL = [
    (mark_ready, []),
    (send_out, [start_preparing]),
    (mark_delivered, [start_preparing, mark_ready]),
    (mark_collected, [start_preparing]),
    (start_preparing, [start_preparing]),
    (start_preparing, [lambda order, now: cancel_order(order, by_customer=True, now=now)]),
    (mark_ready, [start_preparing, mark_ready, send_out, handed_over(mark_delivered)]),
]


@pytest.mark.parametrize(("transition", "before"), ILLEGAL)
def test_an_illegal_transition_is_refused_and_writes_nothing(shop, transition, before):
    order = place(shop, [line(shop.small, 2)], fulfilment="delivery")
    for step in before:
        step(order, now=NOW)
    was = snapshot(order)

    with pytest.raises(TransitionError):
        transition(order, now=NOW)

    assert snapshot(order) == was


def test_the_refusal_says_why(shop):
    order = place(shop)

    with pytest.raises(TransitionError) as refused:
        mark_ready(order, now=NOW)

    assert str(refused.value) == "La commande VAI-1125-001 ne peut pas être prête : elle est reçue."


def test_a_pickup_order_never_goes_out_for_delivery(shop):
    order = place(shop)
    start_preparing(order, now=NOW)
    mark_ready(order, now=NOW)
    was = snapshot(order)

    with pytest.raises(TransitionError, match="est à emporter : elle ne part pas en livraison"):
        send_out(order, now=NOW)

    assert snapshot(order) == was


def test_a_delivery_order_is_not_collected(shop):
    order = place(shop, [line(shop.small, 2)], fulfilment="delivery")
    start_preparing(order, now=NOW)
    mark_ready(order, now=NOW)

    with pytest.raises(TransitionError, match="est à livrer"):
        mark_collected(order, now=NOW)


def test_a_stale_copy_of_the_order_is_checked_against_the_database(shop):
    order = place(shop)
    stale = Order.objects.get(pk=order.pk)
    start_preparing(order, now=NOW)

    with pytest.raises(TransitionError):
        start_preparing(stale, now=NOW)

    assert StockMovement.objects.filter(kind="consumption", ingredient=shop.cheese).count() == 1


# Cancelling ------------------------------------------------------------------------------------


def test_cancelling_gives_the_stock_back(shop):
    order = place(shop, [line(shop.small, 2)])

    cancel_order(order, by_customer=True, now=NOW)

    assert order.status == Status.CANCELLED
    assert level(shop, shop.cheese) == (5000, 0)
    assert list(order.events.values_list("to_status", flat=True)) == ["received", "cancelled"]


def test_the_customer_cannot_cancel_once_preparing_started(shop):
    order = place(shop)
    start_preparing(order, now=NOW)
    was = snapshot(order)

    with pytest.raises(TransitionError) as refused:
        cancel_order(order, by_customer=True, now=NOW)

    assert str(refused.value) == (
        "La préparation de votre commande a commencé : elle ne peut plus être annulée. Appelez la pizzeria."
    )
    assert snapshot(order) == was


def test_staff_cancel_after_preparation_with_a_reason_and_nothing_comes_back(shop):
    order = place(shop, [line(shop.small, 2)])
    start_preparing(order, now=NOW)

    with pytest.raises(OrderError, match="Indiquez le motif de l'annulation."):
        cancel_order(order, now=NOW)
    cancel_order(order, reason="Client injoignable", now=NOW)

    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (Status.CANCELLED, "Client injoignable")
    assert level(shop, shop.cheese) == (4800, 0)  # consumed, not given back
    assert not StockMovement.objects.filter(kind="waste").exists()


def test_a_finished_order_cannot_be_cancelled(shop):
    order = place(shop)
    for transition in (start_preparing, mark_ready, handed_over(mark_collected)):
        transition(order, now=NOW)
    was = snapshot(order)

    with pytest.raises(TransitionError):
        cancel_order(order, reason="Trop tard", now=NOW)

    assert snapshot(order) == was


# Changing --------------------------------------------------------------------------------------


def test_changing_the_lines_reprices_and_moves_the_stock(shop):
    order = place(shop, [line(shop.small, 2)])

    change_order(order, lines=[line(shop.large, 1), line(shop.beer_size, 2)], now=NOW)

    order.refresh_from_db()
    assert (order.subtotal, order.total, order.version) == (D("20.00"), D("20.00"), 2)
    assert [(li.product_name, li.size_name, li.quantity) for li in order.lines.all()] == [
        ("Margherita", "Grande", 1),
        ("Bière blonde", "33 cl", 2),
    ]
    assert level(shop, shop.cheese) == (5000, 200)  # a large pizza takes twice the small's 100 g
    assert level(shop, shop.beer_stock) == (20, 2)
    assert list(order.events.values_list("from_status", "to_status", "note")) == [
        ("", "received", ""),
        ("received", "received", "Articles modifiés"),
    ]


def test_changing_the_slot(shop):
    order = place(shop)
    later = NOW.replace(hour=20, minute=15)

    change_order(order, slot=later, now=NOW)

    order.refresh_from_db()
    assert (order.asap, order.slot_start, order.promised_at) == (False, later, later)


def test_an_order_moved_within_a_full_slot_keeps_its_place(shop):
    configure(shop.store, slot_capacity=1)
    slot = NOW.replace(hour=19)
    order = place(shop, slot=slot)

    change_order(order, lines=[line(shop.small, 3)], slot=slot, now=NOW)

    assert Order.objects.get().slot_start == slot


def test_a_change_that_fails_writes_nothing(shop):
    order = place(shop, [line(shop.small, 2)])
    was = snapshot(order)

    with pytest.raises(OrderError):
        change_order(order, lines=[line(shop.beer_size, 21)], now=NOW)

    assert snapshot(order) == was
    assert level(shop, shop.cheese) == (5000, 200)
    assert list(order.lines.values_list("quantity", flat=True)) == [2]


def test_a_delivery_change_below_the_minimum_is_refused(shop):
    order = place(shop, [line(shop.small, 2)], fulfilment="delivery")

    with pytest.raises(OrderError, match="Le minimum de commande en livraison"):
        change_order(order, lines=[line(shop.small, 1)], now=NOW)


def test_a_change_after_preparation_started_is_refused(shop):
    order = place(shop)
    start_preparing(order, now=NOW)
    was = snapshot(order)

    with pytest.raises(TransitionError) as refused:
        change_order(order, lines=[line(shop.small, 1)], now=NOW)

    assert (
        str(refused.value) == "La préparation de votre commande a commencé : elle ne peut plus être modifiée."
    )
    assert snapshot(order) == was


def test_a_change_with_a_stale_total_is_refused(shop):
    order = place(shop)

    with pytest.raises(PriceChanged):
        change_order(order, lines=[line(shop.small, 3)], expected_total="18.00", now=NOW)

    assert Order.objects.get().total == D("18.00")


def test_the_order_knows_its_cart_lines(shop):
    order = place(shop, [line(shop.small, 2, shop.extra), line(shop.beer_size, 1)])
    shop.beer.delete()

    order = Order.objects.get()
    assert order.cart_lines() == [line(shop.small, 2, shop.extra)]
    shop.extra.delete()
    assert order.cart_lines() == [line(shop.small, 2)]
    assert order.lines.count() == 2  # history keeps what was sold

"""Undoing a mis-tap on the kitchen board: its own event, the stock exactly as it was, a short delay."""

import datetime

import pytest

from ordering import services
from ordering.models import Order, OrderEvent
from ordering.services import KITCHEN_UNDO_DELAY, TransitionError
from stores.models import StockLevel, StockMovement
from stores.services import count_inventory, restore_reservation

from .factories import NOW, line, place

SECOND = datetime.timedelta(seconds=1)


def levels(shop):
    """{ingredient name: (on hand, reserved)} at the shop's store."""
    return {
        level.ingredient.name: (level.on_hand, level.reserved)
        for level in StockLevel.objects.filter(store=shop.store).select_related("ingredient")
    }


def written(order):
    return (
        Order.objects.values_list("status", "version").get(pk=order.pk),
        OrderEvent.objects.filter(order=order).count(),
        StockMovement.objects.count(),
    )


@pytest.fixture
def order(shop):
    """Two large Margheritas with extra mozzarella (each 400 g dough, 200 + 100 g cheese, 4 g basil)
    and a small one (200 g dough, 100 g cheese, 2 g basil)."""
    return place(shop, [line(shop.large, 2, shop.extra), line(shop.small, 1)])


def test_undoing_a_start_puts_the_stock_back_exactly_and_a_new_start_consumes_it_again(shop, order):
    placed = levels(shop)
    assert placed["Pâte"] == (10000, 1000)
    assert placed["Mozzarella"] == (5000, 700)
    assert placed["Basilic"] == (500, 10)

    services.start_preparing(order, now=NOW + 60 * SECOND)
    started = levels(shop)
    assert started["Pâte"] == (9000, 0)
    assert started["Mozzarella"] == (4300, 0)
    assert started["Basilic"] == (490, 0)

    services.undo_start_preparing(order, now=NOW + 90 * SECOND)
    assert levels(shop) == placed
    order.refresh_from_db()
    assert order.status == Order.Status.RECEIVED

    services.start_preparing(order, now=NOW + 120 * SECOND)
    assert levels(shop) == started

    services.undo_start_preparing(order, now=NOW + 130 * SECOND)
    assert levels(shop) == placed


def test_the_undo_writes_its_own_event_and_ledger_movements_and_bumps_the_version(shop, order):
    services.start_preparing(order, now=NOW + 60 * SECOND)
    version = Order.objects.get(pk=order.pk).version

    services.undo_start_preparing(order, now=NOW + 70 * SECOND)

    order.refresh_from_db()
    assert order.version == version + 1  # the tracking page follows the version
    event = order.events.order_by("-id").first()
    assert (event.from_status, event.to_status) == ("preparing", "received")
    assert event.note == "Annulation d'une erreur de saisie (préparation commencée par erreur)"
    restored = StockMovement.objects.filter(order_reference=order.number, kind="restoration")
    assert sorted(restored.values_list("ingredient__name", "on_hand_change", "reserved_change")) == [
        ("Basilic", 10, 10),
        ("Mozzarella", 700, 700),
        ("Pâte", 1000, 1000),
    ]


def test_a_cancellation_after_an_undo_releases_the_restored_reservation(shop, order):
    before = {name: (on_hand, 0) for name, (on_hand, _reserved) in levels(shop).items()}
    services.start_preparing(order, now=NOW + 60 * SECOND)
    services.undo_start_preparing(order, now=NOW + 70 * SECOND)

    services.cancel_order(order, now=NOW + 80 * SECOND)

    assert levels(shop) == before


def test_undoing_restores_what_a_short_count_let_the_start_take(shop, order):
    """A count found only 300 g of cheese for 700 g reserved: the start took 300 g on hand and the
    whole reservation; the undo gives back exactly that."""
    count_inventory(store=shop.store, counts=[(shop.cheese, 300)], user=None)
    assert levels(shop)["Mozzarella"] == (300, 700)
    services.start_preparing(order, now=NOW + 60 * SECOND)
    assert levels(shop)["Mozzarella"] == (0, 0)

    services.undo_start_preparing(order, now=NOW + 70 * SECOND)

    assert levels(shop)["Mozzarella"] == (300, 700)


def test_restoring_twice_gives_nothing_the_second_time(shop, order):
    services.start_preparing(order, now=NOW + 60 * SECOND)
    services.undo_start_preparing(order, now=NOW + 70 * SECOND)
    after_undo = levels(shop)

    assert restore_reservation(store=shop.store, order_reference=order.number) == []
    assert levels(shop) == after_undo


def test_an_undo_after_the_delay_is_refused_and_writes_nothing(shop, order):
    services.start_preparing(order, now=NOW)
    before = written(order), levels(shop)

    with pytest.raises(TransitionError) as refused:
        services.undo_start_preparing(order, now=NOW + KITCHEN_UNDO_DELAY + SECOND)

    assert str(refused.value) == (
        f"Trop tard pour annuler : la commande {order.number} est en préparation depuis plus de "
        "2 minutes. Rien n'a été changé."
    )
    assert (written(order), levels(shop)) == before


def test_an_undo_at_the_end_of_the_delay_is_accepted(shop, order):
    services.start_preparing(order, now=NOW)

    services.undo_start_preparing(order, now=NOW + KITCHEN_UNDO_DELAY)

    assert Order.objects.get(pk=order.pk).status == Order.Status.RECEIVED


def test_undoing_a_start_once_the_order_is_ready_is_refused(shop, order):
    services.start_preparing(order, now=NOW)
    services.mark_ready(order, now=NOW + 10 * SECOND)
    before = written(order), levels(shop)

    with pytest.raises(TransitionError) as refused:
        services.undo_start_preparing(order, now=NOW + 20 * SECOND)

    assert str(refused.value) == (
        f"La commande {order.number} ne peut pas revenir en attente : elle est prête."
    )
    assert (written(order), levels(shop)) == before


def test_an_undo_cannot_be_undone_and_a_received_order_has_nothing_to_undo(shop, order):
    services.start_preparing(order, now=NOW)
    services.mark_ready(order, now=NOW + 10 * SECOND)
    services.undo_mark_ready(order, now=NOW + 20 * SECOND)
    before = written(order)

    with pytest.raises(TransitionError) as refused:
        services.undo_mark_ready(order, now=NOW + 30 * SECOND)
    assert "ne peut pas revenir en préparation : elle est en préparation" in str(refused.value)

    with pytest.raises(TransitionError) as refused:
        services.undo_start_preparing(order, now=NOW + 30 * SECOND)
    assert str(refused.value) == (
        f"Rien à annuler : la commande {order.number} a changé depuis (elle est en préparation). "
        "Rien n'a été changé."
    )
    assert written(order) == before


def test_undoing_ready_moves_the_order_back_to_preparing_with_its_event(shop, order):
    services.start_preparing(order, now=NOW)
    services.mark_ready(order, now=NOW + 10 * SECOND)
    stock = levels(shop)

    services.undo_mark_ready(order, now=NOW + 20 * SECOND)

    order.refresh_from_db()
    assert order.status == Order.Status.PREPARING
    event = order.events.order_by("-id").first()
    assert (event.from_status, event.to_status, event.note) == (
        "ready",
        "preparing",
        "Annulation d'une erreur de saisie (marquée prête par erreur)",
    )
    assert levels(shop) == stock


def test_a_cancelled_order_cannot_be_undone(shop, order):
    services.start_preparing(order, now=NOW)
    services.cancel_order(order, reason="Client parti", now=NOW + 10 * SECOND)
    before = written(order), levels(shop)

    with pytest.raises(TransitionError) as refused:
        services.undo_start_preparing(order, now=NOW + 20 * SECOND)

    assert (
        str(refused.value) == f"La commande {order.number} ne peut pas revenir en attente : elle est annulée."
    )
    assert (written(order), levels(shop)) == before

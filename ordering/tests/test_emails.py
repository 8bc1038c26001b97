"""The e-mails that follow an order: French, sent after commit, through the tasks framework."""

import pytest
from django.core import mail
from django.utils.module_loading import import_string

from ordering.exceptions import OrderError, TransitionError
from ordering.models import Order
from ordering.services import (
    Contact,
    cancel_order,
    change_order,
    mark_collected,
    mark_delivered,
    mark_ready,
    pay_order,
    send_out,
    start_preparing,
)
from ordering.tasks import send_order_email

from .factories import NOW, configure, line, new_key, place


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the services schedule after commit, as a real request's commit would."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run


def test_the_confirmation_carries_the_receipt_with_vat_per_rate(shop, committed):
    order = committed(
        place, shop, [line(shop.large, 1, shop.extra), line(shop.beer_size, 2)], fulfilment="delivery"
    )

    [email] = mail.outbox
    assert email.to == ["camille@example.fr"]
    assert email.subject == "Votre commande VAI-1125-001 est confirmée"
    body = email.body
    assert "Bonjour Camille Martin," in body
    assert "Merci ! Votre commande VAI-1125-001 est confirmée." in body
    assert "Livraison prévue le mercredi 25 novembre à 12:50, au 12 rue de Bourgogne, 69009 Lyon." in body
    assert "1 × Margherita (Grande), Supplément mozzarella" in body
    assert "13,50\xa0€ × 1 = 13,50\xa0€   (TVA 10 %)" in body
    assert "2 × Bière blonde (33 cl)" in body
    assert "4,00\xa0€ × 2 = 8,00\xa0€   (TVA 20 %)" in body
    assert "Frais de livraison : 2,50\xa0€" in body
    assert "Total TTC : 24,00\xa0€" in body
    # 16.00 € at 10 % (pizza and delivery), 8.00 € at 20 %.
    assert "TVA 10 % : 1,45\xa0€ (HT 14,55\xa0€, TTC 16,00\xa0€)" in body
    assert "TVA 20 % : 1,33\xa0€ (HT 6,67\xa0€, TTC 8,00\xa0€)" in body
    assert "Paiement : Espèces" in body
    assert "&#x27;" not in body and "&amp;" not in body
    assert order.number in body


def test_no_confirmation_before_an_online_payment_then_one_after(shop, committed):
    order = committed(place, shop, payment_method="card_online")
    assert mail.outbox == []

    committed(pay_order, order, source_token="cnon:card-nonce-ok", idempotency_key=new_key(), now=NOW)

    assert [email.subject for email in mail.outbox] == ["Votre commande VAI-1125-001 est confirmée"]
    assert "Paiement : Carte bancaire en ligne" in mail.outbox[0].body


@pytest.fixture
def queued_in_database(queue_tasks_in_database, shop):
    """Production's tasks backend from after the shop's setting up (whose stock queues tasks of
    its own)."""
    queue_tasks_in_database()


@pytest.mark.usefixtures("queued_in_database")
def test_in_production_the_confirmation_is_queued_with_the_order_not_after_its_commit(
    shop, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    # Nothing run after the commit: a worker killed right after it still leaves the mail queued.
    with django_capture_on_commit_callbacks(execute=False):
        order = place(shop)

    queued = DBTaskResult.objects.get()
    assert (queued.task_path, queued.args_kwargs, queued.status) == (
        "ordering.tasks.send_placed_order_confirmation",
        {"args": [order.idempotency_key], "kwargs": {}},
        "READY",
    )
    assert mail.outbox == []

    # What the worker runs for that row.
    assert import_string(queued.task_path).call(*queued.args_kwargs["args"]) == 1
    assert [email.subject for email in mail.outbox] == ["Votre commande VAI-1125-001 est confirmée"]


@pytest.mark.usefixtures("queued_in_database")
def test_in_production_the_commit_queues_no_second_confirmation(shop, committed):
    from django_tasks_db.models import DBTaskResult

    order = committed(place, shop)

    assert list(DBTaskResult.objects.values_list("task_path", "args_kwargs")) == [
        ("ordering.tasks.send_placed_order_confirmation", {"args": [order.idempotency_key], "kwargs": {}})
    ]


@pytest.mark.usefixtures("queued_in_database")
def test_in_production_a_refused_order_leaves_no_confirmation_queued(shop, committed):
    from django_tasks_db.models import DBTaskResult

    configure(shop.store, slot_capacity=1)
    slot = NOW.replace(hour=19, minute=0)
    committed(place, shop, slot=slot)

    # Refused under the placing lock, after its confirmation was queued: both are rolled back.
    with pytest.raises(OrderError, match="Ce créneau est complet : choisissez-en un autre."):
        committed(place, shop, slot=slot)

    assert DBTaskResult.objects.count() == 1
    assert Order.objects.count() == 1


@pytest.mark.usefixtures("queued_in_database")
def test_in_production_an_order_waiting_for_its_online_payment_queues_its_confirmation_once_paid(
    shop, committed
):
    from django_tasks_db.models import DBTaskResult

    order = committed(place, shop, payment_method="card_online")
    assert not DBTaskResult.objects.exists()

    committed(pay_order, order, source_token="cnon:card-nonce-ok", idempotency_key=new_key(), now=NOW)

    assert list(DBTaskResult.objects.values_list("task_path", "args_kwargs")) == [
        ("ordering.tasks.send_order_email", {"args": [order.pk, "confirmation"], "kwargs": {}})
    ]


@pytest.mark.usefixtures("queued_in_database")
def test_in_production_a_status_e_mail_is_queued_with_its_change_not_after_its_commit(
    shop, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    order = place(shop)
    start_preparing(order, now=NOW)
    DBTaskResult.objects.all().delete()  # the order's own confirmation

    with django_capture_on_commit_callbacks(execute=False):  # a worker killed right after the commit
        mark_ready(order, now=NOW)

    queued = DBTaskResult.objects.get()
    assert (queued.task_path, queued.args_kwargs, queued.status) == (
        "ordering.tasks.send_order_email",
        {"args": [order.pk, "ready"], "kwargs": {}},
        "READY",
    )
    assert mail.outbox == []
    assert import_string(queued.task_path).call(*queued.args_kwargs["args"]) == 1
    assert [email.subject for email in mail.outbox] == ["Votre commande VAI-1125-001 est prête"]


@pytest.mark.usefixtures("queued_in_database")
def test_in_production_a_status_change_rolled_back_leaves_no_e_mail_queued(shop):
    from django.db import transaction
    from django_tasks_db.models import DBTaskResult

    order = place(shop)
    DBTaskResult.objects.all().delete()

    # A caller whose own work fails after the change: the e-mail's row goes with the change.
    with pytest.raises(RuntimeError, match="after the cancel"), transaction.atomic():
        cancel_order(order, reason="Client injoignable", now=NOW)
        assert DBTaskResult.objects.get().args_kwargs == {"args": [order.pk, "cancelled"], "kwargs": {}}
        raise RuntimeError("after the cancel")

    assert not DBTaskResult.objects.exists()
    assert Order.objects.get().status == "received"
    assert mail.outbox == []


def test_ready_for_pickup(shop, committed):
    order = place(shop)
    start_preparing(order, now=NOW)

    committed(mark_ready, order, now=NOW)
    committed(mark_collected, order, payment_method="cash", amount_received=order.total, now=NOW)

    [email] = mail.outbox
    assert email.subject == "Votre commande VAI-1125-001 est prête"
    assert "Votre commande VAI-1125-001 est prête : elle vous attend chez OC Pizza Vaise." in email.body


def test_out_for_delivery(shop, committed):
    order = place(shop, [line(shop.small, 2)], fulfilment="delivery")
    start_preparing(order, now=NOW)

    committed(mark_ready, order, now=NOW)  # no "ready" mail for a delivery
    committed(send_out, order, now=NOW)
    committed(mark_delivered, order, payment_method="cash", amount_received=order.total, now=NOW)

    [email] = mail.outbox
    assert email.subject == "Votre commande VAI-1125-001 est en route"
    assert "notre livreur arrive au 12 rue de Bourgogne, 69009 Lyon." in email.body


def test_changed(shop, committed):
    order = place(shop)

    committed(change_order, order, lines=[line(shop.small, 3)], now=NOW)

    [email] = mail.outbox
    assert email.subject == "Votre commande VAI-1125-001 a été modifiée"
    assert "3 × Margherita (Petite)" in email.body
    assert "Total TTC : 27,00\xa0€" in email.body


def test_cancelled_with_its_refund(shop, committed):
    order = place(shop, payment_method="card_online")
    pay_order(order, source_token="cnon:card-nonce-ok", idempotency_key=new_key(), now=NOW)

    committed(cancel_order, order, by_customer=True, reason="Je me suis trompé d'adresse", now=NOW)

    [email] = mail.outbox
    assert email.subject == "Votre commande VAI-1125-001 est annulée"
    assert "Motif : Je me suis trompé d'adresse" in email.body
    assert "Vous êtes remboursé de 18,00\xa0€ sur votre carte bancaire." in email.body


def test_a_refused_transition_sends_nothing(shop, committed):
    order = place(shop)

    with pytest.raises(TransitionError):
        committed(send_out, order, now=NOW)

    assert mail.outbox == []


def test_an_order_without_email_sends_nothing(shop):
    order = place(shop, source="phone", contact=Contact("Paul", "0612345678"))

    assert send_order_email.call(order.id, "confirmation") == 0
    assert mail.outbox == []


def test_e_mails_are_french_whatever_the_active_language(shop):
    from django.utils import translation

    order = place(shop)
    with translation.override("en"):
        send_order_email.call(order.id, "confirmation")

    assert mail.outbox[0].subject == "Votre commande VAI-1125-001 est confirmée"
    assert "Total TTC : 18,00\xa0€" in mail.outbox[0].body

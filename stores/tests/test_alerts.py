import itertools

import pytest
from django.db import transaction
from django.utils.module_loading import import_string

from accounts.tests.factories import UserFactory
from menu.tests.factories import product_with_recipe
from ocpizza import roles
from stores.models import StockAlert, StockLevel, StoreRole
from stores.services import count_inventory, reserve_ingredients, restock

from .factories import StoreMembershipFactory, StorePageFactory, stock


@pytest.fixture
def store(store_index):
    store = StorePageFactory(parent=store_index, title="OC Pizza Vaise", slug="vaise")
    chef = UserFactory(email="chef@oc-pizza.fr", groups=[roles.STORE_MANAGERS])
    StoreMembershipFactory(store=store, role=StoreRole.MANAGER, user=chef)
    paolo = UserFactory(email="paolo@oc-pizza.fr", groups=[roles.PIZZAIOLOS])
    StoreMembershipFactory(store=store, role=StoreRole.PIZZAIOLO, user=paolo)
    return store


@pytest.fixture
def margherita(menu_page, cheese):
    return product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100}).sizes.get()


ORDER_NUMBERS = itertools.count(1)


def sell(store, size, portions=1):
    reserve_ingredients(store=store, lines=[(size, portions, [])], order_reference=f"V-{next(ORDER_NUMBERS)}")


def test_two_sales_below_the_threshold_send_one_mail_to_the_managers(
    store, cheese, margherita, mailoutbox, django_capture_on_commit_callbacks
):
    stock(store, {cheese: 500}, thresholds={cheese: 300})

    with django_capture_on_commit_callbacks(execute=True):
        sell(store, margherita, 2)  # 500 -> 300: at the threshold
    with django_capture_on_commit_callbacks(execute=True):
        sell(store, margherita)  # 300 -> 200: still below, no new alert

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["chef@oc-pizza.fr"]
    assert "Mozzarella" in mailoutbox[0].subject and "OC Pizza Vaise" in mailoutbox[0].subject
    assert "Il ne reste que 300 grammes de Mozzarella" in mailoutbox[0].body
    assert StockAlert.objects.get().quantity == 300


def test_a_sale_above_the_threshold_raises_no_alert(
    store, cheese, margherita, mailoutbox, django_capture_on_commit_callbacks
):
    stock(store, {cheese: 500}, thresholds={cheese: 300})

    with django_capture_on_commit_callbacks(execute=True):
        sell(store, margherita)

    assert mailoutbox == [] and not StockAlert.objects.exists()


def test_a_restock_above_the_threshold_rearms_the_alert(
    store, cheese, margherita, mailoutbox, django_capture_on_commit_callbacks
):
    stock(store, {cheese: 400}, thresholds={cheese: 300})
    with django_capture_on_commit_callbacks(execute=True):
        sell(store, margherita)  # 400 -> 300: first crossing

    restock(store=store, lines=[(cheese, 1000)], user=None)  # 1300: above again
    first = StockAlert.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        count_inventory(store=store, counts=[(cheese, 250)], user=None)  # second crossing

    first.refresh_from_db()
    assert first.resolved_at is not None
    assert StockAlert.objects.filter(resolved_at__isnull=True).count() == 1
    assert len(mailoutbox) == 2


def test_the_alert_mail_waits_for_the_commit(
    store, cheese, margherita, mailoutbox, django_capture_on_commit_callbacks
):
    stock(store, {cheese: 400}, thresholds={cheese: 300})

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sell(store, margherita)

    assert mailoutbox == []  # the mail waits for the commit
    assert StockLevel.objects.get().below_threshold
    for callback in callbacks:  # the commit (the page cache's bump among them)
        callback()
    assert len(mailoutbox) == 1


def test_the_alert_watches_what_is_free_not_what_is_on_the_shelf(
    store, cheese, margherita, django_capture_on_commit_callbacks
):
    stock(store, {cheese: 1000}, thresholds={cheese: 300})

    with django_capture_on_commit_callbacks(execute=True):
        sell(store, margherita, 7)  # held by an order: still on the shelf, but not for sale

    alert = StockAlert.objects.get()
    assert (alert.quantity, alert.threshold) == (300, 300)
    assert StockLevel.objects.get(store=store, ingredient=cheese).on_hand == 1000


def test_in_production_the_alert_mail_is_queued_with_the_sale_not_after_its_commit(
    queue_tasks_in_database, store, cheese, margherita, mailoutbox, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    stock(store, {cheese: 400}, thresholds={cheese: 300})
    queue_tasks_in_database()

    # Nothing run after the commit: a worker killed right after it still leaves the mail queued.
    with django_capture_on_commit_callbacks(execute=False):
        sell(store, margherita)

    alert = StockAlert.objects.get()
    queued = DBTaskResult.objects.get()
    assert (queued.task_path, queued.args_kwargs, queued.status) == (
        "stores.tasks.send_low_stock_alert",
        {"args": [alert.id], "kwargs": {}},
        "READY",
    )
    assert mailoutbox == []
    assert import_string(queued.task_path).call(*queued.args_kwargs["args"]) == 1  # what the worker runs
    assert [message.to for message in mailoutbox] == [["chef@oc-pizza.fr"]]


def test_in_production_a_sale_rolled_back_leaves_no_alert_mail_queued(
    queue_tasks_in_database, store, cheese, margherita
):
    from django_tasks_db.models import DBTaskResult

    stock(store, {cheese: 400}, thresholds={cheese: 300})
    queue_tasks_in_database()

    with pytest.raises(RuntimeError), transaction.atomic():
        sell(store, margherita)
        raise RuntimeError("the order is refused after its reservation")

    assert not StockAlert.objects.exists()
    assert not DBTaskResult.objects.exists()

"""Staff of one store reach nothing of another store on the staff screens (/equipe/…).

The screens are read from ordering.staff_urls, not listed by hand: each URL that names a store
is asked, in GET and in POST, with Vaise's ids (its store, an order, a line, a driver, an order
number) by every role of Bellecour, and must answer 403 or 404 with Vaise's orders untouched. A
screen added later is covered by itself. The same with Vaise's own crew answers something else,
so the URLs are real. Admin screens (order review, reports, stock, food cost) have their tests
in test_admin_orders.py, test_admin_review.py, test_reports.py and stores/tests.
"""

import re

import pytest

from ordering import services, staff_urls
from ordering.models import Order
from stores.models import StoreRole
from stores.tests.factories import StorePageFactory

from .factories import place
from .test_order_taking import crew

STORE_PATTERNS = [p for p in staff_urls.urlpatterns if "<int:store_id>" in str(p.pattern)]
POST_DATA = {"action": "start", "driver": "", "order": "", "amount": "50.00", "place": "", "add": ""}


@pytest.fixture
def vaise_orders(shop):
    ready = place(shop, fulfilment="delivery")
    services.start_preparing(ready)
    services.mark_ready(ready)
    received = place(shop)
    return ready, received


def url_of(pattern, *, store, order, driver):
    values = {
        "store_id": store.id,
        "order_id": order.id,
        "line_id": order.lines.first().id,
        "driver_id": driver.id,
        "number": order.number,
    }
    return "/equipe/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m[1]]), str(pattern.pattern))


def snapshot():
    return list(Order.objects.order_by("id").values_list("id", "status", "version", "driver_id"))


def test_every_screen_naming_a_store_is_walked():
    names = {p.name for p in STORE_PATTERNS}

    assert {
        "order_taking",
        "kitchen",
        "kitchen_action",
        "kitchen_recipe",
        "delivery",
        "delivery_deliver",
    } <= names
    assert len(STORE_PATTERNS) == len(staff_urls.urlpatterns) - 1  # all but the staff home


@pytest.mark.parametrize("role", [StoreRole.MANAGER, StoreRole.STAFF, StoreRole.PIZZAIOLO, StoreRole.DRIVER])
def test_the_crew_of_another_store_reaches_nothing_of_this_store(
    client, shop, store_index, vaise_orders, role
):
    bellecour = StorePageFactory(parent=store_index, title="OC Pizza Bellecour", slug="bellecour")
    vaise_driver = crew(StoreRole.DRIVER, shop.store)
    client.force_login(crew(role, bellecour))
    before = snapshot()
    reached = []

    for order in vaise_orders:
        for pattern in STORE_PATTERNS:
            url = url_of(pattern, store=shop.store, order=order, driver=vaise_driver)
            data = {**POST_DATA, "driver": vaise_driver.id, "order": order.id}
            for response in (client.get(url), client.post(url, data)):
                if response.status_code not in (403, 404, 405):
                    reached.append((url, response.request["REQUEST_METHOD"], response.status_code))

    assert reached == []
    assert snapshot() == before


def test_the_store_s_own_manager_opens_its_screens(client, shop, vaise_orders):
    client.force_login(crew(StoreRole.MANAGER, shop.store))

    for name in ["order_taking", "kitchen", "delivery"]:
        pattern = next(p for p in STORE_PATTERNS if p.name == name)
        url = url_of(
            pattern, store=shop.store, order=vaise_orders[0], driver=crew(StoreRole.DRIVER, shop.store)
        )
        assert client.get(url).status_code == 200, url

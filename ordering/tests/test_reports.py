"""The sales reports (ordering.reports): what counts, exact figures, Paris periods, bounded queries."""

import dataclasses
import datetime
from decimal import Decimal

import pytest

from ordering.models import Order
from ordering.reports import DAY, Period, sales_report
from ordering.services import (
    cancel_order,
    mark_collected,
    mark_delivered,
    mark_ready,
    pay_order,
    refund_order,
    send_out,
    start_preparing,
)
from stores.models import StorePage
from stores.tests.factories import StorePageFactory, stock

from .factories import NOW, configure, line, new_key, place

D = Decimal
OK = "cnon:card-nonce-ok"
MINUTE = datetime.timedelta(minutes=1)
WEDNESDAY = NOW.date()  # 2026-11-25


@pytest.fixture
def other_shop(shop, store_index):
    store = StorePageFactory(parent=store_index, slug="bellecour", title="OC Pizza Bellecour")
    configure(store)
    stock(store, {shop.cheese: 5000, shop.dough: 10000, shop.basil: 500, shop.beer_stock: 20})
    return dataclasses.replace(shop, store=store)


def placed_at(order, moment):
    """Move an order (and its events) to `moment`, as if it had been placed then."""
    Order.objects.filter(pk=order.pk).update(created_at=moment)
    order.events.update(created_at=moment)
    order.refresh_from_db()
    return order


@pytest.fixture
def day_orders(shop, other_shop):
    """Wednesday 25/11/2026 at Vaise: a collected pickup (18,00 €, cash, web), a delivered phone
    order paid online and partly refunded (26,50 € − 5,00 €, late), a cancelled counter order,
    an unpaid online order; at Bellecour, one collected order (18,00 €)."""
    pickup = place(shop, now=NOW)
    start_preparing(pickup, now=NOW + 5 * MINUTE)
    mark_ready(pickup, now=NOW + 15 * MINUTE)
    mark_collected(pickup, now=NOW + 25 * MINUTE)

    delivery = place(
        shop,
        [line(shop.large, 2), line(shop.beer_size)],
        fulfilment="delivery",
        payment_method="card_online",
        source=Order.Source.PHONE,
        now=NOW,
    )
    pay_order(delivery, source_token=OK, idempotency_key=new_key(), now=NOW)
    start_preparing(delivery, now=NOW + 10 * MINUTE)
    mark_ready(delivery, now=NOW + 25 * MINUTE)
    send_out(delivery, now=NOW + 30 * MINUTE)
    mark_delivered(delivery, now=NOW + 75 * MINUTE)
    refund_order(
        delivery,
        amount=D("5.00"),
        reason="Pizza froide",
        user=None,
        idempotency_key=new_key(),
        now=NOW + 80 * MINUTE,
    )

    cancelled = place(shop, source=Order.Source.COUNTER, now=NOW)
    cancel_order(cancelled, reason="Client parti", now=NOW + MINUTE)

    unpaid = place(shop, payment_method="card_online", now=NOW)

    elsewhere = place(other_shop, now=NOW)
    return {
        "pickup": pickup,
        "delivery": delivery,
        "cancelled": cancelled,
        "unpaid": unpaid,
        "elsewhere": elsewhere,
    }


def test_smoke(day_orders, shop):
    for o in day_orders.values():
        o.refresh_from_db()
        print(
            o.number,
            o.status,
            o.total,
            o.delivery_fee,
            o.promised_at,
            o.source,
            o.payment_method,
            o.refunded_amount(),
            o.vat_breakdown(),
        )
    report = sales_report(StorePage.objects.all(), Period.containing(DAY, WEDNESDAY))
    for c in report.columns + [report.total]:
        print(c, c.revenue_excl_vat, c.average_basket, c.ready_minutes, c.delivered_minutes)
    print(report.series)


def test_view_smoke(client, day_orders, db):
    from accounts.tests.factories import UserFactory
    from ocpizza import roles
    client.force_login(UserFactory(email="h@oc-pizza.fr", groups=[roles.HEAD_OFFICE]))
    r = client.get("/admin/rapports/?period=day&date=2026-11-25")
    print(r.status_code)
    open("/tmp/rep/page.html", "w").write(r.content.decode())
    r = client.get("/admin/rapports/csv/?period=day&date=2026-11-25")
    open("/tmp/rep/r.csv", "wb").write(r.content)

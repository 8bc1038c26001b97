"""Ordering's part of a customer's personal data: export, anonymisation, guest orders claimed."""

import json
from decimal import Decimal

from accounts.tests.factories import UserFactory
from ordering.models import Order
from ordering.personal_data import anonymise_orders, claim_guest_orders, export_orders
from ordering.services import Contact

from .factories import line, place


def test_the_export_holds_the_customers_orders_and_only_theirs(shop):
    customer = UserFactory(email="lea@example.fr")
    place(shop, [line(shop.small, 2, shop.extra)], customer=customer, contact=Contact("Léa", "0612345678"))
    place(shop, customer=UserFactory())

    [exported] = export_orders(customer)

    json.dumps(exported)  # JSON-able as is
    assert exported["number"] == "VAI-1125-001"
    assert exported["contact"] == {"name": "Léa", "phone": "0612345678", "email": "lea@example.fr"}
    assert exported["lines"] == [
        {
            "product": "Margherita",
            "size": "Petite",
            "extras": ["Supplément mozzarella"],
            "quantity": 2,
            "unit_price": "10.50",
            "vat_rate": "10.00",
            "total": "21.00",
        }
    ]
    assert exported["total"] == "21.00"
    assert [event["to"] for event in exported["history"]] == ["received"]


def test_anonymising_keeps_the_accounts_and_removes_the_person(shop):
    customer = UserFactory()
    order = place(shop, [line(shop.small, 2)], fulfilment="delivery", customer=customer)
    secret = order.secret
    assert (order.latitude, order.longitude) == (Decimal("45.780000"), Decimal("4.800000"))  # 69009

    assert anonymise_orders(customer) == 1

    order.refresh_from_db()
    assert (order.customer, order.contact_name, order.contact_phone, order.contact_email) == (
        None,
        "",
        "",
        "",
    )
    assert (order.street_address, order.address_details, order.postcode) == ("", "", "69009")
    assert (order.latitude, order.longitude) == (None, None)
    assert order.secret != secret
    assert (order.total, order.lines.count()) == (Decimal("20.50"), 1)


def test_guest_orders_are_claimed_by_the_account_that_confirms_their_email(shop):
    guest_order = place(shop)  # camille@example.fr, no account
    other = place(shop, contact=Contact("Paul", "0612345678", "paul@example.fr"))
    customer = UserFactory(email="camille@example.fr")

    assert claim_guest_orders(customer, "Camille@Example.fr") == 1

    assert Order.objects.get(pk=guest_order.pk).customer == customer
    assert Order.objects.get(pk=other.pk).customer is None
    assert claim_guest_orders(UserFactory(), "camille@example.fr") == 0  # never taken from an account

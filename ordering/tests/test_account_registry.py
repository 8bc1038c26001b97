"""Ordering is plugged into the accounts' registries: through the real account pages, a
customer's download holds their orders, deleting the account anonymises them, and confirming an
e-mail address attaches the guest orders placed with it."""

import json

from django.test import Client
from django.urls import reverse

from accounts.tests.factories import PASSWORD, UserFactory
from accounts.tests.test_accounts import link_in, sign_up_data
from ordering.models import Order
from ordering.services import Contact, mark_delivered, mark_ready, send_out, start_preparing

from .factories import place


def logged_in(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(user)
    return client


def test_the_download_holds_the_customers_orders(shop):
    customer = UserFactory(email="lea@example.fr")
    order = place(shop, customer=customer)
    place(shop, customer=UserFactory())

    response = logged_in(customer).get(reverse("accounts:personal_data"))

    assert response.status_code == 200
    assert [exported["number"] for exported in json.loads(response.content)["orders"]] == [order.number]


def test_deleting_the_account_keeps_its_orders_without_the_person(shop):
    customer = UserFactory(email="lea@example.fr")
    order = place(shop, customer=customer, fulfilment="delivery")
    mark_delivered(
        send_out(mark_ready(start_preparing(order))), payment_method="cash", amount_received=order.total
    )

    response = logged_in(customer).post(reverse("accounts:delete"), {"password": PASSWORD})

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.customer, order.contact_name, order.contact_email, order.street_address) == (
        None,
        "",
        "",
        "",
    )
    assert order.total == order.subtotal + order.delivery_fee - order.discount_total


def test_confirming_the_address_of_a_new_account_attaches_its_guest_orders(shop, mailoutbox):
    guest_order = place(shop, contact=Contact("Jeanne Durand", "0612345678", "jeanne@example.fr"))
    someone_else = place(shop, contact=Contact("Paul", "0612345678", "paul@example.fr"))
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")

    client.post(reverse("accounts:signup"), sign_up_data("Jeanne@Example.fr"))
    guest_order.refresh_from_db()
    assert guest_order.customer is None  # not before the address is proven

    client.post(link_in(mailoutbox[-1], "/compte/email/confirmer/"))

    guest_order.refresh_from_db()
    assert guest_order.customer.email == "jeanne@example.fr"
    assert Order.objects.get(pk=someone_else.pk).customer is None


def test_an_account_whose_order_is_on_its_way_cannot_be_deleted(shop):
    customer = UserFactory(email="lea@example.fr")
    order = place(shop, customer=customer, fulfilment="delivery")

    response = logged_in(customer).post(reverse("accounts:delete"), {"password": PASSWORD})

    assert response.status_code == 200
    assert (
        f"Votre commande {order.number} est en cours : vous pourrez supprimer votre compte une fois "
        "qu’elle sera livrée, retirée ou annulée."
    ) in response.content.decode()
    order.refresh_from_db()
    assert (order.customer, order.street_address) == (customer, "12 rue de Bourgogne")

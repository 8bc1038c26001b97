"""The account page: name, phone, preferred store, and the saved delivery addresses."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Address
from stores.tests.factories import StorePageFactory

from .factories import AddressFactory, UserFactory

ACCOUNT = reverse("accounts:account")


@pytest.fixture
def customer(db):
    return UserFactory(email="camille@example.fr", first_name="Camille", last_name="Martin")


@pytest.fixture
def client(customer):
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(customer)
    return client


def address_data(**extra):
    return {
        "label": "Bureau",
        "street_address": "12 quai Saint-Vincent",
        "postcode": "69001",
        "city": "Lyon",
        "details": "3e étage",
        **extra,
    }


def profile_data(**extra):
    return {"first_name": "Camille", "last_name": "Martin", "phone": "0700000000", **extra}


def test_customer_updates_their_name_and_phone(client, customer):
    response = client.post(ACCOUNT, profile_data(first_name="Camila"))

    assert response.status_code == 302 and response["Location"] == ACCOUNT
    customer.refresh_from_db()
    assert (customer.first_name, customer.phone) == ("Camila", "0700000000")
    assert "Vos informations ont été enregistrées." in client.get(ACCOUNT).content.decode()


def test_customer_chooses_a_preferred_store_among_live_ones(client, customer, store_index):
    vaise = StorePageFactory(parent=store_index, title="OC Pizza Vaise")
    closed = StorePageFactory(parent=store_index, title="OC Pizza Fermée", live=False)

    html = client.get(ACCOUNT).content.decode()
    assert "OC Pizza Vaise" in html and "OC Pizza Fermée" not in html

    client.post(ACCOUNT, profile_data(preferred_store=vaise.pk))
    customer.refresh_from_db()
    assert customer.preferred_store_id == vaise.pk

    refused = client.post(ACCOUNT, profile_data(preferred_store=closed.pk))
    assert refused.status_code == 200
    customer.refresh_from_db()
    assert customer.preferred_store_id == vaise.pk

    client.post(ACCOUNT, profile_data(preferred_store=""))
    customer.refresh_from_db()
    assert customer.preferred_store is None


def test_a_deleted_store_is_no_longer_anyones_preferred_one(customer, store_index):
    store = StorePageFactory(parent=store_index)
    customer.preferred_store = store
    customer.save()

    store.delete()

    customer.refresh_from_db()
    assert customer.preferred_store is None


def test_the_first_address_is_the_default_and_is_listed(client, customer):
    response = client.post(reverse("accounts:address_add"), address_data())

    assert response.status_code == 302 and response["Location"] == ACCOUNT
    address = customer.addresses.get()
    assert (address.label, address.street_address, address.postcode, address.details, address.is_default) == (
        "Bureau",
        "12 quai Saint-Vincent",
        "69001",
        "3e étage",
        True,
    )
    html = client.get(ACCOUNT).content.decode()
    assert "12 quai Saint-Vincent" in html and "Par défaut" in html


def test_a_postcode_must_have_five_digits(client, customer):
    response = client.post(reverse("accounts:address_add"), address_data(postcode="690"))

    assert response.status_code == 200
    assert "Un code postal a cinq chiffres." in response.content.decode()
    assert not customer.addresses.exists()


def test_several_addresses_and_one_default_at_a_time(client, customer):
    home = AddressFactory(user=customer, label="Maison")
    client.post(reverse("accounts:address_add"), address_data(is_default="on"))
    office = customer.addresses.get(label="Bureau")
    home.refresh_from_db()
    assert (office.is_default, home.is_default) == (True, False)

    response = client.post(reverse("accounts:address_default", args=[home.pk]))

    assert response.status_code == 302
    assert list(customer.addresses.values_list("label", "is_default")) == [
        ("Maison", True),
        ("Bureau", False),
    ]


def test_customer_edits_an_address(client, customer):
    address = AddressFactory(user=customer)

    client.post(reverse("accounts:address_edit", args=[address.pk]), address_data(city="Villeurbanne"))

    address.refresh_from_db()
    assert (address.city, address.label) == ("Villeurbanne", "Bureau")


def test_deleting_the_default_address_makes_the_next_one_default(client, customer):
    first = AddressFactory(user=customer)
    second = AddressFactory(user=customer)
    assert client.get(reverse("accounts:address_delete", args=[first.pk])).status_code == 200

    response = client.post(reverse("accounts:address_delete", args=[first.pk]))

    assert response.status_code == 302
    assert list(customer.addresses.values_list("pk", "is_default")) == [(second.pk, True)]


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("accounts:address_edit", "get"),
        ("accounts:address_edit", "post"),
        ("accounts:address_delete", "get"),
        ("accounts:address_delete", "post"),
        ("accounts:address_default", "post"),
    ],
)
def test_another_customers_address_is_404(client, name, method):
    theirs = AddressFactory(user=UserFactory(), city="Caluire")

    response = getattr(client, method)(reverse(name, args=[theirs.pk]), address_data(city="Lyon"))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.city, theirs.is_default) == ("Caluire", True)
    assert Address.objects.filter(pk=theirs.pk).exists()


def test_addresses_need_a_login(db):
    response = Client().get(reverse("accounts:address_add"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))

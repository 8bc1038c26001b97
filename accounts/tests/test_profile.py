"""The account page: name, phone, preferred store, and the saved delivery addresses."""

from decimal import Decimal

import pytest
from django.core.cache import cache
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


def test_a_saved_address_is_geocoded_and_keeps_its_coordinates(client, customer):
    client.post(reverse("accounts:address_add"), address_data(street_address="  12   quai Saint-Vincent "))

    address = customer.addresses.get()
    assert (address.street_address, address.postcode, address.city) == (
        "12 quai Saint-Vincent",
        "69001",
        "Lyon",
    )
    assert (address.latitude, address.longitude) == (Decimal("45.769600"), Decimal("4.829100"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"street_address": "12345", "city": "69001"},
            "Indiquez le numéro, la rue et la ville, pas seulement des chiffres.",
        ),
        ({"street_address": "улица Ленина"}, "Écrivez l&#x27;adresse en caractères latins."),
        (
            {"postcode": "75001", "city": "Paris"},
            "Nous ne trouvons pas le code postal 75001 : vérifiez l&#x27;adresse.",
        ),
    ],
)
def test_an_address_the_geocoder_refuses_is_not_saved_and_keeps_what_was_typed(
    client, customer, overrides, message
):
    response = client.post(reverse("accounts:address_add"), address_data(**overrides))

    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert f'value="{overrides.get("city", "Lyon")}"' in html
    assert not customer.addresses.exists()


def test_an_address_geocoded_by_google_is_not_looked_up_again_when_only_its_label_changes(
    client, customer, settings
):
    from stores.tests.google_stub import GEOCODE_PATH, GoogleStub, geocode_result

    stub = GoogleStub().start()
    settings.GOOGLEAPIKEY = "AIzaSyA-test-key-for-the-local-stub-0000"
    settings.GEO_GEOCODING_BASE_URL = stub.url
    settings.GEO_TIMEOUT_SECONDS = 0.5
    cache.clear()
    try:
        stub.answer(
            GEOCODE_PATH,
            {
                "status": "OK",
                "results": [
                    geocode_result(
                        "12 Quai Saint-Vincent, 69001 Lyon, France",
                        lat=45.7681,
                        lng=4.8247,
                        postcode="69001",
                        street="Quai Saint-Vincent",
                    )
                ],
            },
        )
        client.post(reverse("accounts:address_add"), address_data(street_address="12 quai st vincent"))
        address = customer.addresses.get()
        assert (address.street_address, address.latitude, address.longitude) == (
            "12 Quai Saint-Vincent",
            Decimal("45.768100"),
            Decimal("4.824700"),
        )
        client.post(
            reverse("accounts:address_edit", args=[address.pk]),
            address_data(street_address="12 Quai Saint-Vincent", label="Travail"),
        )
        assert customer.addresses.get().label == "Travail"
        assert len(stub.requests_to(GEOCODE_PATH)) == 1
    finally:
        stub.stop()
        cache.clear()


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

    client.post(
        reverse("accounts:address_edit", args=[address.pk]),
        address_data(postcode="69100", city="Villeurbanne"),
    )

    address.refresh_from_db()
    assert (address.city, address.label) == ("Villeurbanne", "Bureau")
    # Geocoded again because it moved: the offline geocoder answers the centre of 69100.
    assert (address.latitude, address.longitude) == (Decimal("45.771000"), Decimal("4.890000"))


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

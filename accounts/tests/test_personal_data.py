"""A customer downloads their personal data (JSON) and deletes their account."""

import json

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts import personal_data
from accounts.models import Address
from ocpizza import roles
from stores.tests.factories import StorePageFactory

from .factories import PASSWORD, AddressFactory, UserFactory

User = get_user_model()
DATA = reverse("accounts:personal_data")
DELETE = reverse("accounts:delete")


@pytest.fixture
def registry(monkeypatch):
    """Empty registries for the test: sections and erasures of other apps are theirs to test."""
    monkeypatch.setattr(personal_data, "_exports", {})
    monkeypatch.setattr(personal_data, "_erasures", [])
    monkeypatch.setattr(personal_data, "_email_confirmed", [])
    return personal_data


@pytest.fixture
def customer(db, store_index):
    user = UserFactory(
        email="camille@example.fr",
        first_name="Camille",
        last_name="Martin",
        phone="0612345678",
        preferred_store=StorePageFactory(parent=store_index, title="OC Pizza Vaise"),
    )
    AddressFactory(user=user, label="Maison", street_address="3 rue Marietton", postcode="69009")
    return user


@pytest.fixture
def client(customer):
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(customer)
    return client


def test_the_download_holds_the_profile_addresses_and_registered_sections(client, customer, registry):
    registry.register_export("orders", lambda user: [{"number": "VAI-1129-017", "customer": user.email}])

    response = client.get(DATA)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="oc-pizza-mes-donnees-')
    data = json.loads(response.content)
    assert set(data) == {"profile", "email_addresses", "addresses", "orders"}
    profile = data["profile"]
    assert {
        key: profile[key] for key in ("email", "first_name", "last_name", "phone", "preferred_store")
    } == {
        "email": "camille@example.fr",
        "first_name": "Camille",
        "last_name": "Martin",
        "phone": "0612345678",
        "preferred_store": "OC Pizza Vaise",
    }
    assert profile["date_joined"].startswith(str(customer.date_joined.year))
    assert data["email_addresses"] == [{"email": "camille@example.fr", "verified": True, "primary": True}]
    assert data["addresses"] == [
        {
            "label": "Maison",
            "street_address": "3 rue Marietton",
            "postcode": "69009",
            "city": "Lyon",
            "details": "",
            "is_default": True,
            "latitude": None,
            "longitude": None,
        }
    ]
    assert data["orders"] == [{"number": "VAI-1129-017", "customer": "camille@example.fr"}]


def test_the_download_is_only_ones_own(db):
    response = Client().get(DATA)

    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_deleting_the_account_erases_through_the_registry_then_removes_the_user(client, customer, registry):
    seen = []

    def erase(user):
        # Inside the transaction, before the user row goes: the user is still there.
        seen.append((user.email, User.objects.filter(pk=user.pk).exists()))

    registry.register_erasure(erase)
    assert "Supprimer définitivement mon compte" in client.get(DELETE).content.decode()

    response = client.post(DELETE, {"password": PASSWORD}, follow=True)

    assert response.redirect_chain == [(reverse("accounts:deleted"), 302)]
    assert "Votre compte et vos données personnelles ont été supprimés." in response.content.decode()
    assert seen == [("camille@example.fr", True)]
    assert not User.objects.filter(email="camille@example.fr").exists()
    assert not Address.objects.exists()
    assert not EmailAddress.objects.filter(email="camille@example.fr").exists()
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_deletes_nothing(client, customer, registry):
    erased = []
    registry.register_erasure(erased.append)

    response = client.post(DELETE, {"password": "pas-le-bon"})

    assert response.status_code == 200
    assert "Ce mot de passe n’est pas le bon." in response.content.decode()
    assert erased == []
    assert User.objects.filter(pk=customer.pk).exists()


def test_a_failing_erasure_leaves_the_account_whole(client, customer, registry):
    def erase_then_fail(user):
        Address.objects.filter(user=user).delete()
        raise RuntimeError("ordering could not anonymise")

    registry.register_erasure(erase_then_fail)
    client.raise_request_exception = True

    with pytest.raises(RuntimeError):
        client.post(DELETE, {"password": PASSWORD})

    assert User.objects.filter(pk=customer.pk).exists()
    assert customer.addresses.count() == 1


def test_a_staff_account_is_not_deleted_from_the_storefront(db, registry):
    staff = UserFactory(groups=[roles.HEAD_OFFICE])
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(staff)

    response = client.post(DELETE, {"password": PASSWORD})

    assert response.status_code == 403
    assert "le siège le ferme depuis l’espace de gestion" in response.content.decode()
    assert User.objects.filter(pk=staff.pk).exists()

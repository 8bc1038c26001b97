"""The superusers' Wagtail screen of login attempts and lockouts, and its unlock button."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from ocpizza import roles

from .factories import PASSWORD, UserFactory

SCREEN = reverse("accounts_login_attempts")
UNLOCK = reverse("accounts_login_unlock")
CUSTOMER_LOGIN = reverse("accounts:login")
ATTACKER = "203.0.113.7"


def fail(client, email, times, ip=ATTACKER):
    for _ in range(times):
        client.post(CUSTOMER_LOGIN, {"login": email, "password": "wrong"}, HTTP_X_REAL_IP=ip)


@pytest.fixture
def superuser(db):
    return UserFactory(email="chef@oc-pizza.fr", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(superuser):
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(superuser)
    return client


@pytest.fixture
def head_office_client(db):
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(UserFactory(groups=[roles.HEAD_OFFICE]))
    return client


@pytest.fixture
def locked_customer(db, client):
    customer = UserFactory(email="camille@example.fr")
    for n in range(5):
        client.post(
            CUSTOMER_LOGIN,
            {"login": customer.email, "password": "wrong"},
            HTTP_X_REAL_IP=f"198.51.100.{n}",
        )
    return customer


def test_the_screen_lists_the_locked_account_and_the_recent_failures(
    admin_client, locked_customer, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = admin_client.get(SCREEN)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Blocages en cours" in html
    assert "Compte camille@example.fr" in html
    assert html.count("198.51.100.") == 5  # one failure row per address; no address is locked
    assert "Adresse 198.51.100" not in html


def test_the_screen_lists_a_locked_address(admin_client, db, client):
    for n in range(5):
        client.post(
            CUSTOMER_LOGIN, {"login": f"cible{n}@example.fr", "password": "x"}, HTTP_X_REAL_IP=ATTACKER
        )

    html = admin_client.get(SCREEN).content.decode()

    assert f"Adresse {ATTACKER}" in html
    assert "Compte cible0@example.fr" not in html


def test_the_screen_says_when_nothing_is_locked(admin_client):
    html = admin_client.get(SCREEN).content.decode()

    assert "Aucun compte ni aucune adresse n’est bloqué." in html
    assert "Aucun échec de connexion enregistré." in html


def test_unlocking_an_account_from_the_screen_lets_its_owner_log_in(admin_client, locked_customer, client):
    response = admin_client.post(UNLOCK, {"kind": "username", "value": locked_customer.email})

    assert response.status_code == 302 and response["Location"] == SCREEN
    assert "Le compte camille@example.fr est débloqué." in admin_client.get(SCREEN).content.decode()
    login = client.post(
        CUSTOMER_LOGIN, {"login": locked_customer.email, "password": PASSWORD}, HTTP_X_REAL_IP="192.0.2.1"
    )
    assert login.status_code == 302
    assert "_auth_user_id" in client.session


def test_unlocking_an_address_from_the_screen_lifts_its_lock(admin_client, db, client):
    UserFactory(email="camille@example.fr")
    for n in range(5):
        client.post(
            CUSTOMER_LOGIN, {"login": f"cible{n}@example.fr", "password": "x"}, HTTP_X_REAL_IP=ATTACKER
        )

    admin_client.post(UNLOCK, {"kind": "ip_address", "value": ATTACKER})

    login = client.post(
        CUSTOMER_LOGIN, {"login": "camille@example.fr", "password": PASSWORD}, HTTP_X_REAL_IP=ATTACKER
    )
    assert login.status_code == 302
    assert not AccessAttempt.objects.filter(ip_address=ATTACKER).exists()


def test_the_screen_is_refused_to_a_head_office_user(head_office_client):
    response = head_office_client.get(SCREEN)

    assert response.status_code == 403
    assert "Seuls les super-utilisateurs voient les tentatives de connexion." in response.content.decode()


def test_unlocking_is_refused_to_a_head_office_user(head_office_client, locked_customer):
    response = head_office_client.post(UNLOCK, {"kind": "username", "value": locked_customer.email})

    assert response.status_code == 403
    assert AccessAttempt.objects.filter(username=locked_customer.email).count() == 5


def test_unlocking_needs_a_post(admin_client, locked_customer):
    response = admin_client.get(UNLOCK, {"kind": "username", "value": locked_customer.email})

    assert response.status_code == 405
    assert AccessAttempt.objects.filter(username=locked_customer.email).count() == 5


def test_unlocking_needs_the_csrf_token(superuser, locked_customer):
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)

    response = client.post(UNLOCK, {"kind": "username", "value": locked_customer.email})

    assert response.status_code == 403
    assert AccessAttempt.objects.filter(username=locked_customer.email).count() == 5


def test_unlocking_without_a_value_is_refused_and_unlocks_nobody(admin_client, locked_customer):
    response = admin_client.post(UNLOCK, {"kind": "username", "value": "  "})

    assert response.status_code == 400
    assert response.content.decode() == "Indiquez une adresse ou un compte à débloquer."
    assert AccessAttempt.objects.count() == 5


def test_the_menu_entry_is_shown_to_superusers_only(admin_client, head_office_client):
    assert SCREEN in admin_client.get(reverse("wagtailadmin_home")).content.decode()
    assert SCREEN not in head_office_client.get(reverse("wagtailadmin_home")).content.decode()

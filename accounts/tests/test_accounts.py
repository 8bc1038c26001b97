import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from .factories import PASSWORD, UserFactory

User = get_user_model()


def test_email_is_the_login_and_is_case_insensitive(client, db):
    UserFactory(email="camille@example.fr")

    assert client.login(username="Camille@Example.FR", password=PASSWORD)


def test_create_user_requires_an_email(db):
    with pytest.raises(ValueError):
        User.objects.create_user("", "secret")


def test_customer_signs_up_and_lands_on_their_account(client, db):
    response = client.post(
        reverse("accounts:signup"),
        {
            "email": "Nouveau@Example.fr",
            "first_name": "Jeanne",
            "last_name": "Durand",
            "phone": "06 12 34 56 78",
            "password1": "une-pizza-bien-cuite",
            "password2": "une-pizza-bien-cuite",
        },
    )

    assert response.status_code == 302 and response["Location"] == reverse("accounts:account")
    assert User.objects.get(email="nouveau@example.fr").first_name == "Jeanne"
    assert "Bienvenue" in client.get(reverse("accounts:account"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()


def test_signup_with_a_taken_email_is_refused_and_keeps_the_input(client, db):
    UserFactory(email="pris@example.fr")

    response = client.post(
        reverse("accounts:signup"),
        {
            "email": "PRIS@example.fr",
            "first_name": "Paul",
            "last_name": "Martin",
            "password1": "une-pizza-bien-cuite",
            "password2": "une-pizza-bien-cuite",
        },
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Un compte existe déjà avec cette adresse e-mail." in html
    assert 'value="Paul"' in html
    assert User.objects.filter(email__iexact="pris@example.fr").count() == 1


def test_account_page_needs_a_login(client, db):
    response = client.get(reverse("accounts:account"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={reverse('accounts:account')}"


def test_customer_updates_their_phone(client, db):
    user = UserFactory()
    client.login(username=user.email, password=PASSWORD)

    client.post(reverse("accounts:account"), {"first_name": "A", "last_name": "B", "phone": "0700000000"})

    user.refresh_from_db()
    assert user.phone == "0700000000"


def test_password_reset_sends_a_french_email_with_a_working_link(client, db, mailoutbox):
    UserFactory(email="oubli@example.fr")

    client.post(reverse("accounts:password_reset"), {"email": "oubli@example.fr"}, HTTP_ACCEPT_LANGUAGE="fr")

    assert len(mailoutbox) == 1
    body = mailoutbox[0].body
    link = next(line for line in body.splitlines() if "/compte/mot-de-passe/nouveau/" in line)
    path = link.split("testserver", 1)[1]
    form = client.get(path, follow=True, HTTP_ACCEPT_LANGUAGE="fr")
    assert form.status_code == 200
    assert 'name="new_password1"' in form.content.decode() and 'name="new_password2"' in form.content.decode()
    assert "nouveau mot de passe" in mailoutbox[0].subject


def test_logout_is_a_post(client, db):
    user = UserFactory()
    client.login(username=user.email, password=PASSWORD)

    assert client.get(reverse("accounts:logout")).status_code == 405
    client.post(reverse("accounts:logout"))
    after = client.get(reverse("accounts:account"))
    assert after.status_code == 302
    assert after["Location"] == f"{reverse('accounts:login')}?next={reverse('accounts:account')}"

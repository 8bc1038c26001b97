"""Who works where: head office assigns staff accounts to stores, and only staff hear from a store."""

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from menu.tests.factories import product_with_recipe
from ocpizza import roles
from stores.access import staff_accounts
from stores.models import StoreMembership, StoreRole
from stores.services import reserve_ingredients

from .factories import StoreMembershipFactory, stock

CHOOSER = "/admin/snippets/choose/stores/storemembership/"
ADD = reverse("wagtailsnippets_stores_storemembership:add")


@pytest.fixture
def customer(db):
    return UserFactory(email="camille@example.fr")


@pytest.fixture
def crew_member(db):
    return UserFactory(email="emma@oc-pizza.fr", groups=[roles.STORE_STAFF])


def test_the_membership_chooser_refuses_with_403_whoever_cannot_list_memberships(
    client, manager, marketing, home_page
):
    for user in (manager, marketing):
        client.force_login(user)

        assert client.get(CHOOSER).status_code == 403
        assert client.get(CHOOSER + "results/").status_code == 403


def test_the_membership_chooser_lists_memberships_for_head_office(client, head_office, manager, home_page):
    client.force_login(head_office)

    response = client.get(CHOOSER)

    assert response.status_code == 200
    assert str(StoreMembership.objects.get(user=manager)) in response.json()["html"]


def test_a_logged_out_visitor_is_sent_to_the_admin_login_by_the_chooser(client, db):
    response = client.get(CHOOSER)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={CHOOSER}"


def test_staff_accounts_are_active_people_with_a_role_or_the_staff_flag(db, customer, crew_member):
    flagged = UserFactory(email="it@oc-pizza.fr", is_staff=True)
    superuser = UserFactory(email="admin@oc-pizza.fr", is_superuser=True)
    UserFactory(email="ancien@oc-pizza.fr", groups=[roles.STORE_STAFF], is_active=False)

    assert set(staff_accounts().values_list("email", flat=True)) == {
        crew_member.email,
        flagged.email,
        superuser.email,
    }


def test_the_membership_form_offers_staff_accounts_only(client, head_office, customer, crew_member):
    client.force_login(head_office)

    html = client.get(ADD).content.decode()

    assert f'<option value="{crew_member.pk}"' in html
    assert f'<option value="{customer.pk}"' not in html


def test_a_customer_cannot_be_assigned_to_a_store(client, head_office, customer, bellecour):
    client.force_login(head_office)

    response = client.post(ADD, {"user": customer.pk, "store": bellecour.pk, "role": StoreRole.MANAGER})

    assert response.status_code == 200
    assert response.context["form"].errors["user"] == [
        "Sélectionnez un choix valide. Ce choix ne fait pas partie de ceux disponibles."
    ]
    assert not StoreMembership.objects.filter(user=customer).exists()


def test_head_office_assigns_a_crew_member_to_a_store(client, head_office, crew_member, bellecour):
    client.force_login(head_office)

    response = client.post(ADD, {"user": crew_member.pk, "store": bellecour.pk, "role": StoreRole.STAFF})

    assert response.status_code == 302
    assert StoreMembership.objects.filter(user=crew_member, store=bellecour, role=StoreRole.STAFF).exists()


def test_low_stock_mail_goes_to_staff_managers_and_not_to_a_customer_holding_a_membership(
    bellecour, manager, customer, cheese, menu_page, mailoutbox, django_capture_on_commit_callbacks
):
    StoreMembershipFactory(user=customer, store=bellecour, role=StoreRole.MANAGER)
    margherita = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100}).sizes.get()
    stock(bellecour, {cheese: 400}, thresholds={cheese: 300})

    with django_capture_on_commit_callbacks(execute=True):
        reserve_ingredients(store=bellecour, lines=[(margherita, 1, [])], order_reference="M-1")

    assert [message.to for message in mailoutbox] == [[manager.email]]


def test_posting_to_the_choosers_create_url_is_a_404_not_an_error(client, head_office, customer, bellecour):
    client.force_login(head_office)

    response = client.post(CHOOSER + "create/", {"user": customer.id, "store": bellecour.id, "role": "staff"})

    assert response.status_code == 404
    assert not StoreMembership.objects.filter(user=customer).exists()

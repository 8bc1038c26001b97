"""Who opens which staff screen of which store (/equipe/…): the skeleton every screen shares."""

import pytest
from django.contrib.auth.models import Group

from accounts.tests.factories import UserFactory
from ocpizza import roles
from ordering.access import DELIVERY_BOARD, KITCHEN_BOARD, TAKE_ORDERS, screen_stores
from stores.models import StoreRole
from stores.tests.factories import StoreMembershipFactory, StorePageFactory

ROLE_GROUP = {
    StoreRole.MANAGER: roles.STORE_MANAGERS,
    StoreRole.STAFF: roles.STORE_STAFF,
    StoreRole.PIZZAIOLO: roles.PIZZAIOLOS,
    StoreRole.DRIVER: roles.DRIVERS,
}


@pytest.fixture
def vaise(store_index):
    return StorePageFactory(parent=store_index, title="OC Pizza Vaise", slug="vaise")


@pytest.fixture
def bellecour(store_index):
    return StorePageFactory(parent=store_index, title="OC Pizza Bellecour", slug="bellecour")


def crew(role, *stores):
    user = UserFactory(groups=[ROLE_GROUP[role]])
    for store in stores:
        StoreMembershipFactory(user=user, store=store, role=role)
    return user


def perms(group_name):
    group = Group.objects.get(name=group_name)
    permissions = group.permissions.select_related("content_type")
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


def test_each_crew_group_holds_the_permissions_of_its_screens(db):
    assert perms(roles.PIZZAIOLOS) == {KITCHEN_BOARD}
    assert perms(roles.DRIVERS) == {DELIVERY_BOARD}
    assert perms(roles.STORE_STAFF) == {TAKE_ORDERS, KITCHEN_BOARD, DELIVERY_BOARD}
    for group in (roles.STORE_MANAGERS, roles.HEAD_OFFICE):
        assert {TAKE_ORDERS, KITCHEN_BOARD, DELIVERY_BOARD} <= perms(group)
    assert not perms(roles.MARKETING) & {TAKE_ORDERS, KITCHEN_BOARD, DELIVERY_BOARD}


@pytest.mark.parametrize(
    ("role", "opens"),
    [
        (StoreRole.MANAGER, {TAKE_ORDERS, KITCHEN_BOARD, DELIVERY_BOARD}),
        (StoreRole.STAFF, {TAKE_ORDERS, KITCHEN_BOARD, DELIVERY_BOARD}),
        (StoreRole.PIZZAIOLO, {KITCHEN_BOARD}),
        (StoreRole.DRIVER, {DELIVERY_BOARD}),
    ],
)
def test_a_role_opens_its_screens_in_its_store_only(vaise, bellecour, role, opens):
    user = crew(role, vaise)

    for screen in (TAKE_ORDERS, KITCHEN_BOARD, DELIVERY_BOARD):
        expected = [vaise.id] if screen in opens else []
        assert list(screen_stores(user, screen).values_list("id", flat=True)) == expected, screen


def test_the_role_in_each_store_decides_not_the_groups_held(vaise, bellecour):
    """A pizzaiolo of Vaise who drives for Bellecour: Vaise's kitchen, Bellecour's deliveries."""
    user = UserFactory(groups=[roles.PIZZAIOLOS, roles.DRIVERS])
    StoreMembershipFactory(user=user, store=vaise, role=StoreRole.PIZZAIOLO)
    StoreMembershipFactory(user=user, store=bellecour, role=StoreRole.DRIVER)

    assert list(screen_stores(user, KITCHEN_BOARD).values_list("id", flat=True)) == [vaise.id]
    assert list(screen_stores(user, DELIVERY_BOARD).values_list("id", flat=True)) == [bellecour.id]
    assert not screen_stores(user, TAKE_ORDERS).exists()


def test_a_membership_without_the_group_opens_nothing(vaise):
    user = UserFactory()
    StoreMembershipFactory(user=user, store=vaise, role=StoreRole.PIZZAIOLO)

    assert not screen_stores(user, KITCHEN_BOARD).exists()


def test_head_office_opens_every_screen_of_every_store(vaise, bellecour):
    user = UserFactory(groups=[roles.HEAD_OFFICE])

    for screen in (TAKE_ORDERS, KITCHEN_BOARD, DELIVERY_BOARD):
        assert set(screen_stores(user, screen).values_list("id", flat=True)) == {vaise.id, bellecour.id}


def test_an_inactive_account_opens_nothing(vaise):
    user = crew(StoreRole.MANAGER, vaise)
    user.is_active = False
    user.save()

    assert not screen_stores(user, KITCHEN_BOARD).exists()


def test_staff_home_sends_a_visitor_to_the_login_page(client, db):
    response = client.get("/equipe/")

    assert response.status_code == 302
    assert response["Location"] == "/compte/connexion/?next=/equipe/"


def test_staff_home_refuses_a_customer_with_403(client, db):
    client.force_login(UserFactory())

    response = client.get("/equipe/")

    assert response.status_code == 403
    assert "Votre compte n’a accès à aucun écran d’équipe." in response.content.decode()

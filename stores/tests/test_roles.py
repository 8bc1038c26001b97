import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages

from accounts.tests.factories import UserFactory
from ocpizza import roles
from stores.models import StoreRole

from .factories import StoreMembershipFactory


def perms(group_name):
    group = Group.objects.get(name=group_name)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_head_office_and_managers_hold_the_stock_permissions_after_migrate(db):
    assert set(roles.STOCK_PERMISSIONS) <= perms(roles.HEAD_OFFICE)
    assert set(roles.STOCK_PERMISSIONS) <= perms(roles.STORE_MANAGERS)


def test_marketing_holds_no_stock_permission(db):
    assert not perms(roles.MARKETING) & {"stores.view_stocklevel", "stores.change_stocklevel"}


def test_head_office_and_managers_hold_the_ordering_settings_permissions_marketing_none(db):
    assert set(roles.ORDERING_SETTINGS_PERMISSIONS) <= perms(roles.HEAD_OFFICE)
    assert set(roles.ORDERING_SETTINGS_PERMISSIONS) <= perms(roles.STORE_MANAGERS)
    for group in (roles.MARKETING, roles.STORE_STAFF, roles.PIZZAIOLOS, roles.DRIVERS):
        assert not perms(group) & set(roles.ORDERING_SETTINGS_PERMISSIONS), group


STOCK_SCREENS = [
    "/admin/stock/",
    "/admin/stock/groupe/",
    "/admin/stock/mouvements/",
    "/admin/stock/{store}/",
    "/admin/stock/{store}/livraison/",
    "/admin/stock/{store}/inventaire/",
    "/admin/stock/{store}/pertes/",
    "/admin/stock/{store}/seuils/",
    "/admin/stock/{store}/produits/",
    "/admin/stock/ecarts/",
    "/admin/stock/{store}/ecarts/",
]


@pytest.mark.parametrize("screen", STOCK_SCREENS)
def test_a_logged_out_visitor_is_sent_to_the_admin_login_from_every_stock_screen(client, bellecour, screen):
    url = screen.format(store=bellecour.id)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={url}"


@pytest.mark.parametrize("screen", STOCK_SCREENS)
def test_an_account_without_admin_access_is_sent_to_the_admin_login_from_every_stock_screen(
    client, bellecour, screen
):
    """Wagtail's rule for a logged-in customer or crew member: its login page, with a message."""
    crew_member = UserFactory(groups=[roles.STORE_STAFF])
    StoreMembershipFactory(user=crew_member, store=bellecour, role=StoreRole.STAFF)
    client.force_login(crew_member)
    url = screen.format(store=bellecour.id)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={url}"
    assert [message.message.strip() for message in get_messages(response.wsgi_request)] == [
        "Vous n’avez pas l’autorisation d’accéder à l’administration."
    ]


@pytest.mark.parametrize("screen", STOCK_SCREENS)
def test_marketing_gets_403_on_every_stock_screen(client, marketing, bellecour, screen):
    client.force_login(marketing)

    response = client.get(screen.format(store=bellecour.id))

    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()

"""A store takes a product off its own menu for a while, without touching the chain or the stock."""

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from menu.tests.factories import product_with_recipe
from ocpizza import roles
from stores.availability import check_lines_available
from stores.exceptions import StockError
from stores.models import ProductWithdrawal, StockMovement, StoreRole

from .factories import StoreMembershipFactory, stock
from .test_store_menu import card_of


@pytest.fixture
def margherita(menu_page, dough, cheese):
    return product_with_recipe(menu_page, title="Margherita", recipe={dough: 200, cheese: 100})


@pytest.fixture
def stocked(bellecour, vaise, dough, cheese):
    stock(bellecour, {dough: 5000, cheese: 5000})
    stock(vaise, {dough: 5000, cheese: 5000})


def test_a_manager_withdraws_a_product_from_their_store_only(
    client, manager, bellecour, vaise, margherita, menu_page, stocked
):
    client.force_login(manager)

    response = client.post(
        f"/admin/stock/{bellecour.id}/produits/",
        {"product": margherita.id, "action": "withdraw", "reason": "Four en panne"},
    )

    assert response.status_code == 302
    here = client.get(f"{menu_page.url}pizzeria/bellecour/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    there = client.get(f"{menu_page.url}pizzeria/vaise/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "is-unavailable" in card_of(here, "margherita").split(">")[0]
    assert "Indisponible pour le moment dans cette pizzeria" in card_of(here, "margherita")
    assert "is-unavailable" not in card_of(there, "margherita").split(">")[0]
    assert ProductWithdrawal.objects.get().reason == "Four en panne"
    assert not StockMovement.objects.exclude(kind="restock").exists()


def test_the_cart_check_refuses_a_product_withdrawn_here(bellecour, vaise, margherita, manager, stocked):
    from stores.services import withdraw_product

    withdraw_product(store=bellecour, product=margherita, user=manager)
    line = (margherita.sizes.get(), 1, [])

    with pytest.raises(StockError, match="pas disponible pour le moment dans cette pizzeria"):
        check_lines_available(bellecour, [line])
    check_lines_available(vaise, [line])  # the other store still sells it


def test_a_manager_puts_the_product_back_on_sale(client, manager, bellecour, margherita, menu_page, stocked):
    client.force_login(manager)
    url = f"/admin/stock/{bellecour.id}/produits/"
    client.post(url, {"product": margherita.id, "action": "withdraw"})

    client.post(url, {"product": margherita.id, "action": "restore"})

    html = client.get(f"{menu_page.url}pizzeria/bellecour/").content.decode()
    assert "is-unavailable" not in card_of(html, "margherita").split(">")[0]
    withdrawal = ProductWithdrawal.objects.get()  # kept, closed: who put it back, and when
    assert (withdrawal.user, withdrawal.restored_by) == (manager, manager)
    assert withdrawal.restored_at is not None and withdrawal.restored_at >= withdrawal.created_at
    history = client.get(url).content.decode().split("data-withdrawal-history")[1]
    assert (
        "Margherita" in history
        and timezone.localtime(withdrawal.restored_at).strftime("%d/%m/%Y %H:%M") in history
    )


def test_a_product_withdrawn_again_opens_a_new_withdrawal(client, manager, bellecour, margherita, stocked):
    client.force_login(manager)
    url = f"/admin/stock/{bellecour.id}/produits/"
    client.post(url, {"product": margherita.id, "action": "withdraw", "reason": "Four en panne"})
    client.post(url, {"product": margherita.id, "action": "restore"})

    client.post(url, {"product": margherita.id, "action": "withdraw", "reason": "Plus de basilic"})

    withdrawals = ProductWithdrawal.objects.order_by("id")
    assert [(w.reason, w.restored_at is None) for w in withdrawals] == [
        ("Four en panne", False),
        ("Plus de basilic", True),
    ]


def test_a_manager_of_another_store_gets_403_and_nothing_changes(
    client, bellecour, vaise, margherita, stocked
):
    vaise_manager = UserFactory(groups=[roles.STORE_MANAGERS])
    StoreMembershipFactory(user=vaise_manager, store=vaise, role=StoreRole.MANAGER)
    client.force_login(vaise_manager)

    response = client.post(
        f"/admin/stock/{bellecour.id}/produits/", {"product": margherita.id, "action": "withdraw"}
    )

    assert response.status_code == 403
    assert not ProductWithdrawal.objects.exists()


def test_an_unknown_product_is_refused_with_a_message(client, manager, bellecour, stocked):
    client.force_login(manager)

    response = client.post(
        f"/admin/stock/{bellecour.id}/produits/", {"product": "abc", "action": "withdraw"}, follow=True
    )

    assert "Produit inconnu." in response.content.decode()
    assert not ProductWithdrawal.objects.exists()

"""The recipe card of a ticket line (/equipe/<store>/cuisine/ligne/<line>/recette/)."""

import re

import pytest

from accounts.tests.factories import UserFactory
from menu.models import Allergen, PreparationStep, ProductExtra
from ocpizza import roles
from ordering.access import KITCHEN_BOARD, screen_access, screen_stores
from stores.models import StorePage, StoreRole
from stores.tests.factories import StoreMembershipFactory, StorePageFactory

from .factories import configure, line, place


@pytest.fixture
def pizzaiolo(shop):
    user = UserFactory(groups=[roles.PIZZAIOLOS])
    StoreMembershipFactory(user=user, store=shop.store, role=StoreRole.PIZZAIOLO)
    return user


@pytest.fixture
def recipe(shop):
    """The Margherita's allergens and steps: gluten in the dough, milk in the cheese."""
    shop.dough.allergens.set(Allergen.objects.filter(code="gluten"))
    shop.cheese.allergens.set(Allergen.objects.filter(code="milk"))
    PreparationStep.objects.create(product=shop.pizza, text="Étaler la pâte en disque", sort_order=0)
    PreparationStep.objects.create(product=shop.pizza, text="Garnir puis enfourner 90 s", sort_order=1)
    return shop


def card_url(store, order_line):
    return f"/equipe/{store.id}/cuisine/ligne/{order_line.id}/recette/"


def text(html):
    main = re.search(r"<main.*?</main>", html, re.S)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip()


def test_the_card_shows_the_size_with_its_extras_applied(client, recipe, pizzaiolo):
    shop = recipe
    order = place(shop, [line(shop.large, 2, shop.extra, shop.no_basil)])
    order_line = order.lines.get()
    client.force_login(pizzaiolo)

    response = client.get(card_url(shop.store, order_line))

    assert response.status_code == 200
    shown = text(response.content.decode())
    assert "Margherita Grande" in shown
    assert f"Commande {order.number} · 2 à préparer" in shown
    assert "+ Supplément mozzarella − Sans basilic" in shown
    # Large = twice the reference recipe (200 g dough, 100 g cheese, 2 g basil), + 2 × 50 g cheese,
    # without basil: what `reserve_ingredients` held for one portion.
    rows = re.findall(
        r"<tr(?: class=\"is-added\")?><th scope=\"row\">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>",
        response.content.decode(),
    )
    assert [(" ".join(re.sub(r"<[^>]+>", " ", name).split()), one, two) for name, one, two in rows] == [
        ("Pâte", "400 grammes", "800 grammes"),
        ("Mozzarella supplément inclus", "300 grammes", "600 grammes"),
    ]
    assert "Sans : Basilic" in shown
    assert "Préparation Étaler la pâte en disque Garnir puis enfourner 90 s" in shown
    assert "Allergènes Céréales contenant du gluten Lait" in shown
    assert shown.count("← Retour à la cuisine") == 2
    assert f'href="/equipe/{shop.store.id}/cuisine/#commande-{order.id}"' in response.content.decode()


def test_the_card_quantities_are_the_stock_reservation_s(client, shop, pizzaiolo):
    from stores.models import StockMovement

    order = place(shop, [line(shop.large, 1, shop.extra)])
    reserved = dict(
        StockMovement.objects.filter(order_reference=order.number, kind="reservation").values_list(
            "ingredient__name", "reserved_change"
        )
    )
    client.force_login(pizzaiolo)

    html = client.get(card_url(shop.store, order.lines.get())).content.decode()

    rows = re.findall(
        r"<th scope=\"row\">([^<]+?)\s*(?:<span[^>]*>[^<]*</span>)?</th><td>(\d+) grammes</td>", html
    )
    assert {name.strip(): int(quantity) for name, quantity in rows} == reserved


def test_an_option_removed_from_the_menu_since_is_named_and_left_out(client, shop, pizzaiolo):
    order = place(shop, [line(shop.small, 1, shop.extra)])
    ProductExtra.objects.filter(pk=shop.extra.pk).delete()
    client.force_login(pizzaiolo)

    shown = text(client.get(card_url(shop.store, order.lines.get())).content.decode())

    assert "non prises en compte ci-dessous : Supplément mozzarella." in shown
    assert "Mozzarella 100 grammes" in shown


def test_a_line_whose_size_left_the_menu_says_so(client, shop, pizzaiolo):
    order = place(shop, [line(shop.small, 1)])
    order.lines.update(size=None)
    client.force_login(pizzaiolo)

    response = client.get(card_url(shop.store, order.lines.get()))

    assert response.status_code == 200
    assert "Ce produit ou cette taille n’est plus à la carte" in response.content.decode()


def test_another_store_s_line_is_403_and_an_unknown_line_404(client, shop, store_index, pizzaiolo):
    from dataclasses import replace

    bellecour = StorePageFactory(parent=store_index, slug="bellecour", title="OC Pizza Bellecour")
    configure(bellecour)
    from stores.tests.factories import stock

    stock(bellecour, {shop.cheese: 1000, shop.dough: 1000, shop.basil: 100})
    elsewhere = place(replace(shop, store=bellecour))
    client.force_login(pizzaiolo)

    response = client.get(card_url(shop.store, elsewhere.lines.get()))
    assert response.status_code == 403
    assert "Cette ligne n’est pas une commande de ce point de vente." in response.content.decode()
    assert client.get(card_url(bellecour, elsewhere.lines.get())).status_code == 403
    assert client.get(f"/equipe/{shop.store.id}/cuisine/ligne/999999/recette/").status_code == 404


def test_the_card_reads_a_bounded_number_of_queries(client, recipe, pizzaiolo, django_assert_max_num_queries):
    order = place(recipe, [line(recipe.large, 1, recipe.extra, recipe.no_basil)])
    client.force_login(pizzaiolo)

    with django_assert_max_num_queries(25):
        assert client.get(card_url(recipe.store, order.lines.get())).status_code == 200


@pytest.mark.parametrize(
    ("groups", "role"),
    [
        ([roles.STORE_MANAGERS], StoreRole.MANAGER),
        ([roles.STORE_STAFF], StoreRole.STAFF),
        ([roles.PIZZAIOLOS], StoreRole.PIZZAIOLO),
        ([roles.DRIVERS], StoreRole.DRIVER),
        ([roles.PIZZAIOLOS], StoreRole.DRIVER),
        ([], StoreRole.PIZZAIOLO),
        ([roles.HEAD_OFFICE], None),
        ([roles.MARKETING], None),
        ([], None),
    ],
)
def test_the_poll_s_sql_access_check_agrees_with_screen_stores(shop, store_index, groups, role):
    other = StorePageFactory(parent=store_index, slug="bellecour", title="OC Pizza Bellecour")
    user = UserFactory(groups=groups)
    if role:
        StoreMembershipFactory(user=user, store=shop.store, role=role)
    expected = set(screen_stores(user, KITCHEN_BOARD).values_list("id", flat=True))

    for store in (shop.store, other):
        allowed = (
            StorePage.objects.filter(pk=store.pk)
            .annotate(allowed=screen_access(user, KITCHEN_BOARD, store.id))
            .values_list("allowed", flat=True)
            .get()
        )
        assert bool(allowed) == (store.id in expected), store

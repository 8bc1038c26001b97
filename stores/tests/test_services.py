import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from menu.tests.factories import ProductExtraFactory, product_with_recipe
from stores.availability import check_lines_available
from stores.exceptions import StockError
from stores.models import StockLevel, StockMovement
from stores.services import (
    count_inventory,
    record_waste,
    release_ingredients,
    reserve_ingredients,
    restock,
)

from .factories import stock


def level_of(store, ingredient):
    return StockLevel.objects.get(store=store, ingredient=ingredient).quantity


def test_a_restock_creates_the_level_and_its_movement(store, cheese, admin_user):
    restock(store=store, lines=[(cheese, 5000)], user=admin_user, supplier="Laiterie du Lyonnais")

    movement = StockMovement.objects.get()
    assert level_of(store, cheese) == 5000
    assert (movement.kind, movement.quantity, movement.level_after) == ("restock", 5000, 5000)
    assert movement.user == admin_user and movement.note == "Laiterie du Lyonnais"


def test_the_level_always_equals_the_sum_of_its_movements(store, cheese, dough, menu_page, admin_user):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={dough: 200, cheese: 100})
    line = (pizza.sizes.get(), 3, [])
    restock(store=store, lines=[(cheese, 2000), (dough, 3000)], user=admin_user)
    reserve_ingredients(store=store, lines=[line], order_reference="A-1")
    record_waste(store=store, lines=[(cheese, 150)], user=admin_user, reason="Tombé par terre")
    release_ingredients(store=store, order_reference="A-1")
    count_inventory(store=store, counts=[(cheese, 1800), (dough, 2990)], user=admin_user)
    restock(store=store, lines=[(cheese, 700)], user=admin_user)

    for level in StockLevel.objects.filter(store=store):
        total = StockMovement.objects.filter(store=store, ingredient=level.ingredient).aggregate(
            t=Sum("quantity")
        )
        assert level.quantity == total["t"]
    assert level_of(store, cheese) == 2500 and level_of(store, dough) == 2990


def test_an_inventory_count_records_the_difference_as_a_correction(store, cheese, dough, admin_user):
    stock(store, {cheese: 1000, dough: 500})

    corrections = count_inventory(store=store, counts=[(cheese, 940), (dough, 500)], user=admin_user)

    assert [(m.ingredient, m.kind, m.quantity) for m in corrections] == [(cheese, "correction", -60)]
    assert level_of(store, cheese) == 940


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (-5, "La quantité doit être positive."),
        (0, "La quantité doit être positive."),
        ("douze", "La quantité doit être un nombre entier."),
        ("2.5", "La quantité doit être un nombre entier."),
        (2.0, "La quantité doit être un nombre entier."),
    ],
)
def test_a_bad_restock_quantity_is_refused_and_nothing_is_written(store, cheese, dough, quantity, message):
    with pytest.raises(StockError, match=message):
        restock(store=store, lines=[(dough, 100), (cheese, quantity)], user=None)

    assert not StockMovement.objects.exists()
    assert not StockLevel.objects.filter(quantity__gt=0).exists()


def test_an_unknown_ingredient_is_refused_and_nothing_is_written(store, cheese):
    with pytest.raises(StockError, match="Ingrédient inconnu : 999999."):
        restock(store=store, lines=[(cheese, 100), (999999, 100)], user=None)

    assert not StockMovement.objects.exists()


def test_an_empty_delivery_is_refused(store):
    with pytest.raises(StockError, match="au moins un ingrédient"):
        restock(store=store, lines=[], user=None)


def test_a_negative_count_is_refused(store, cheese):
    stock(store, {cheese: 100})

    with pytest.raises(StockError, match="Mozzarella : La quantité ne peut pas être négative."):
        count_inventory(store=store, counts=[(cheese, -1)], user=None)

    assert level_of(store, cheese) == 100


def test_more_waste_than_in_stock_is_refused(store, cheese):
    stock(store, {cheese: 100})

    with pytest.raises(StockError, match="Il ne reste que 100 de mozzarella"):
        record_waste(store=store, lines=[(cheese, 101)], user=None)

    assert level_of(store, cheese) == 100 and StockMovement.objects.count() == 1


def test_the_database_refuses_a_negative_level(store, cheese):
    stock(store, {cheese: 10})

    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(store=store, ingredient=cheese).update(quantity=-1)


def test_a_reservation_takes_every_ingredient_of_every_line(store, cheese, dough, menu_page):
    pizza = product_with_recipe(
        menu_page, title="Regina", recipe={dough: 200, cheese: 100}, sizes=[("Grande", "15.00", "1.50")]
    )
    extra = ProductExtraFactory(product=pizza, ingredient=cheese, quantity=40)
    stock(store, {cheese: 1000, dough: 1000})

    movements = reserve_ingredients(
        store=store, lines=[(pizza.sizes.get(), 2, [extra])], order_reference="A-7"
    )

    assert {(m.ingredient_id, m.quantity, m.kind, m.order_reference) for m in movements} == {
        (dough.id, -600, "sale", "A-7"),
        (cheese.id, -420, "sale", "A-7"),
    }
    assert level_of(store, cheese) == 580 and level_of(store, dough) == 400


def test_a_reservation_is_all_or_nothing(store, cheese, dough, menu_page):
    pizza = product_with_recipe(
        menu_page,
        title="Regina",
        recipe={dough: 200, cheese: 100},
        sizes=[("Grande (36 cm)", "15.00", "1.00")],
    )
    stock(store, {cheese: 150, dough: 1000})

    with pytest.raises(StockError) as refused:
        reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 2, [])])

    assert refused.value.message == "Plus assez de mozzarella pour Regina (Grande (36 cm))."
    assert level_of(store, cheese) == 150 and level_of(store, dough) == 1000
    assert not StockMovement.objects.filter(kind="sale").exists()


def test_a_refused_reservation_leaves_the_callers_transaction_usable(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 50})

    with transaction.atomic():
        with pytest.raises(StockError):
            reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 1, [])])
        restock(store=store, lines=[(cheese, 100)], user=None)  # the caller goes on

    assert level_of(store, cheese) == 150


def test_a_reservation_of_an_ingredient_never_stocked_is_refused(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})

    with pytest.raises(StockError, match="Plus assez de mozzarella"):
        reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 1, [])])


def test_a_release_gives_back_what_was_reserved(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 300})
    lines = [(pizza.sizes.get(), 2, [])]
    reserve_ingredients(store=store, lines=lines, order_reference="B-2")

    movements = release_ingredients(store=store, order_reference="B-2")

    assert [(m.kind, m.quantity) for m in movements] == [("cancellation", 200)]
    assert level_of(store, cheese) == 300


def test_a_reservation_refuses_a_bad_number_of_portions(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 300})

    with pytest.raises(StockError, match="positive"):
        reserve_ingredients(store=store, lines=[(pizza.sizes.get(), -1, [])])

    assert level_of(store, cheese) == 300


def test_a_release_gives_back_what_was_taken_even_if_the_recipe_changed_since(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 1, [])], order_reference="C-3")
    pizza.recipe_lines.update(quantity=150)

    release_ingredients(store=store, order_reference="C-3")

    assert level_of(store, cheese) == 1000


def test_releasing_an_order_twice_gives_nothing_the_second_time(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 1, [])], order_reference="D-4")

    release_ingredients(store=store, order_reference="D-4")
    assert release_ingredients(store=store, order_reference="D-4") == []

    assert level_of(store, cheese) == 1000


def test_an_order_cannot_reserve_twice_but_may_again_once_released(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})
    lines = [(pizza.sizes.get(), 1, [])]
    reserve_ingredients(store=store, lines=lines, order_reference="E-5")

    with pytest.raises(StockError, match="déjà réservés"):
        reserve_ingredients(store=store, lines=lines, order_reference="E-5")
    release_ingredients(store=store, order_reference="E-5")
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 2, [])], order_reference="E-5")

    assert level_of(store, cheese) == 800


def test_portions_given_as_text_are_accepted(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})

    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), "2", [])])

    assert level_of(store, cheese) == 800


@pytest.mark.parametrize("broken", ["unknown size", "foreign option", "unknown option"])
def test_a_stale_or_tampered_line_is_refused_with_a_clear_message(store, cheese, menu_page, broken):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    other = product_with_recipe(menu_page, title="Regina", recipe={cheese: 100})
    foreign = ProductExtraFactory(product=other, ingredient=cheese, quantity=30)
    stock(store, {cheese: 1000})
    size = pizza.sizes.get()
    line = {
        "unknown size": (size.id + 999, 1, []),
        "foreign option": (size, 1, [foreign]),
        "unknown option": (size, 1, [foreign.id + 999]),
    }[broken]

    with pytest.raises(StockError) as refused:
        reserve_ingredients(store=store, lines=[line])
    with pytest.raises(StockError):
        check_lines_available(store, [line])

    assert "carte" in refused.value.message or "option" in refused.value.message
    assert level_of(store, cheese) == 1000

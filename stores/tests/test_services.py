import datetime

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from menu.tests.factories import ProductExtraFactory, product_with_recipe
from stores.availability import check_lines_available
from stores.exceptions import StockError
from stores.models import StockLevel, StockMovement
from stores.services import (
    consume_reservation,
    count_inventory,
    last_movement_id,
    parse_id,
    record_waste,
    release_ingredients,
    reserve_ingredients,
    restock,
    set_alert_threshold,
    whole_number,
)

from .factories import stock


def level_of(store, ingredient):
    """On hand: what is on the shelf."""
    return StockLevel.objects.get(store=store, ingredient=ingredient).on_hand


def reserved_of(store, ingredient):
    return StockLevel.objects.get(store=store, ingredient=ingredient).reserved


def free_of(store, ingredient):
    return StockLevel.objects.get(store=store, ingredient=ingredient).free


def test_a_restock_creates_the_level_and_its_movement(store, cheese, admin_user):
    restock(store=store, lines=[(cheese, 5000)], user=admin_user, supplier="Laiterie du Lyonnais")

    movement = StockMovement.objects.get()
    assert level_of(store, cheese) == 5000
    assert (movement.kind, movement.on_hand_change, movement.on_hand_after) == ("restock", 5000, 5000)
    assert (movement.reserved_change, movement.reserved_after) == (0, 0)
    assert movement.user == admin_user and movement.note == "Laiterie du Lyonnais"


def test_both_quantities_always_equal_the_sum_of_their_movements(store, cheese, dough, menu_page, admin_user):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={dough: 200, cheese: 100})
    line = (pizza.sizes.get(), 3, [])
    restock(store=store, lines=[(cheese, 2000), (dough, 3000)], user=admin_user)
    reserve_ingredients(store=store, lines=[line], order_reference="A-1")
    reserve_ingredients(store=store, lines=[line], order_reference="A-2")
    record_waste(store=store, lines=[(cheese, 150)], user=admin_user, reason="Tombé par terre")
    release_ingredients(store=store, order_reference="A-1")
    consume_reservation(store=store, order_reference="A-2")
    count_inventory(store=store, counts=[(cheese, 1500), (dough, 2390)], user=admin_user)
    reserve_ingredients(store=store, lines=[line], order_reference="A-3")
    restock(store=store, lines=[(cheese, 700)], user=admin_user)

    for level in StockLevel.objects.filter(store=store):
        totals = StockMovement.objects.filter(store=store, ingredient=level.ingredient).aggregate(
            on_hand=Sum("on_hand_change"), reserved=Sum("reserved_change")
        )
        assert (level.on_hand, level.reserved) == (totals["on_hand"], totals["reserved"])
    assert (level_of(store, cheese), reserved_of(store, cheese)) == (2200, 300)
    assert (level_of(store, dough), reserved_of(store, dough)) == (2390, 600)


def test_an_inventory_count_records_the_difference_as_a_correction(store, cheese, dough, admin_user):
    stock(store, {cheese: 1000, dough: 500})

    corrections = count_inventory(store=store, counts=[(cheese, 940), (dough, 500)], user=admin_user)

    assert [(m.ingredient, m.kind, m.on_hand_change) for m in corrections] == [(cheese, "correction", -60)]
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
    assert not StockLevel.objects.filter(on_hand__gt=0).exists()


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


@pytest.mark.parametrize("field", ["on_hand", "reserved"])
def test_the_database_refuses_a_negative_quantity(store, cheese, field):
    stock(store, {cheese: 10})

    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.filter(store=store, ingredient=cheese).update(**{field: -1})


def test_the_database_accepts_more_reserved_than_on_hand_a_shortage(store, cheese):
    stock(store, {cheese: 10})

    StockLevel.objects.filter(store=store, ingredient=cheese).update(reserved=25)

    level = StockLevel.objects.get(store=store, ingredient=cheese)
    assert (level.free, level.shortage, level.is_low) == (-15, 15, True)


def test_a_reservation_takes_every_ingredient_of_every_line(store, cheese, dough, menu_page):
    pizza = product_with_recipe(
        menu_page, title="Regina", recipe={dough: 200, cheese: 100}, sizes=[("Grande", "15.00", "1.50")]
    )
    extra = ProductExtraFactory(product=pizza, ingredient=cheese, quantity=40)
    stock(store, {cheese: 1000, dough: 1000})

    movements = reserve_ingredients(
        store=store, lines=[(pizza.sizes.get(), 2, [extra])], order_reference="A-7"
    )

    assert {
        (m.ingredient_id, m.on_hand_change, m.reserved_change, m.kind, m.order_reference) for m in movements
    } == {
        (dough.id, 0, 600, "reservation", "A-7"),
        (cheese.id, 0, 420, "reservation", "A-7"),
    }
    # The food stays on the shelf until the kitchen starts: on hand unchanged, less is free.
    assert (level_of(store, cheese), reserved_of(store, cheese), free_of(store, cheese)) == (1000, 420, 580)
    assert (level_of(store, dough), reserved_of(store, dough), free_of(store, dough)) == (1000, 600, 400)


def test_a_new_orders_reservation_can_be_handed_back_checked_but_unwritten(store, cheese, dough, menu_page):
    """Placing an order writes its reservation with the order (`unwritten`): the levels are locked
    and checked, nothing is written until the caller writes what it is handed."""
    from menu import rows

    pizza = product_with_recipe(menu_page, title="Regina", recipe={dough: 200, cheese: 100})
    size = pizza.sizes.get()
    stock(store, {cheese: 1000, dough: 1000})

    with transaction.atomic():
        change = reserve_ingredients(
            store=store, lines=[(size, 2, [])], order_reference="U-1", new_order=True, unwritten=True
        )
        assert [(m.pk, m.ingredient_id, m.reserved_change, m.reserved_after) for m in change.movements] == [
            (None, i, q, q) for i, q in sorted({dough.id: 400, cheese.id: 200}.items())
        ]
        assert reserved_of(store, cheese) == 0
        assert not StockMovement.objects.filter(kind="reservation").exists()
        rows.insert(change.movements, update=change.update)

    assert (reserved_of(store, cheese), reserved_of(store, dough)) == (200, 400)
    assert StockMovement.objects.filter(kind="reservation", order_reference="U-1").count() == 2

    with pytest.raises(StockError) as refused, transaction.atomic():
        reserve_ingredients(
            store=store, lines=[(size, 5, [])], order_reference="U-2", new_order=True, unwritten=True
        )
    assert refused.value.message == "Plus assez de pâte pour Regina (Petite)."
    with pytest.raises(ValueError, match="for a new order only"):
        reserve_ingredients(store=store, lines=[(size, 1, [])], order_reference="U-3", unwritten=True)


def test_a_reservation_is_all_or_nothing(store, cheese, dough, menu_page):
    pizza = product_with_recipe(
        menu_page,
        title="Regina",
        recipe={dough: 200, cheese: 100},
        sizes=[("Grande (36 cm)", "15.00", "1.00")],
    )
    stock(store, {cheese: 150, dough: 1000})

    with pytest.raises(StockError) as refused:
        reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 2, [])], order_reference="Z-1")

    assert refused.value.message == "Plus assez de mozzarella pour Regina (Grande (36 cm))."
    assert level_of(store, cheese) == 150 and level_of(store, dough) == 1000
    assert reserved_of(store, cheese) == 0 and reserved_of(store, dough) == 0
    assert not StockMovement.objects.filter(kind="reservation").exists()


def test_a_reservation_counts_what_other_orders_hold(store, cheese, menu_page):
    pizza = product_with_recipe(
        menu_page, title="Margherita", recipe={cheese: 100}, sizes=[("Petite", "9.00", "1.00")]
    )
    stock(store, {cheese: 250})
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 2, [])], order_reference="F-1")

    with pytest.raises(StockError, match="Plus assez de mozzarella pour Margherita"):
        reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 1, [])], order_reference="F-2")

    assert (level_of(store, cheese), reserved_of(store, cheese)) == (250, 200)


def test_a_refused_reservation_leaves_the_callers_transaction_usable(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 50})

    with transaction.atomic():
        with pytest.raises(StockError):
            reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 1, [])], order_reference="Z-2")
        restock(store=store, lines=[(cheese, 100)], user=None)  # the caller goes on

    assert level_of(store, cheese) == 150 and reserved_of(store, cheese) == 0


def test_a_reservation_of_an_ingredient_never_stocked_is_refused(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})

    with pytest.raises(StockError, match="Plus assez de mozzarella"):
        reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 1, [])], order_reference="Z-3")


def test_a_release_gives_back_what_was_reserved(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 300})
    lines = [(pizza.sizes.get(), 2, [])]
    reserve_ingredients(store=store, lines=lines, order_reference="B-2")

    movements = release_ingredients(store=store, order_reference="B-2")

    assert [(m.kind, m.on_hand_change, m.reserved_change) for m in movements] == [("release", 0, -200)]
    assert (level_of(store, cheese), reserved_of(store, cheese)) == (300, 0)


def test_a_reservation_refuses_a_bad_number_of_portions(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 300})

    with pytest.raises(StockError, match="positive"):
        reserve_ingredients(store=store, lines=[(pizza.sizes.get(), -1, [])], order_reference="Z-4")

    assert level_of(store, cheese) == 300


def test_a_release_gives_back_what_was_taken_even_if_the_recipe_changed_since(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 1, [])], order_reference="C-3")
    pizza.recipe_lines.update(quantity=150)

    release_ingredients(store=store, order_reference="C-3")

    assert (level_of(store, cheese), reserved_of(store, cheese)) == (1000, 0)


def test_releasing_an_order_twice_gives_nothing_the_second_time(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 1, [])], order_reference="D-4")

    release_ingredients(store=store, order_reference="D-4")
    assert release_ingredients(store=store, order_reference="D-4") == []

    assert (level_of(store, cheese), reserved_of(store, cheese)) == (1000, 0)


def test_an_order_cannot_reserve_twice_but_may_again_once_released(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})
    lines = [(pizza.sizes.get(), 1, [])]
    reserve_ingredients(store=store, lines=lines, order_reference="E-5")

    with pytest.raises(StockError, match="déjà réservés"):
        reserve_ingredients(store=store, lines=lines, order_reference="E-5")
    release_ingredients(store=store, order_reference="E-5")
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 2, [])], order_reference="E-5")

    assert (level_of(store, cheese), reserved_of(store, cheese)) == (1000, 200)


def test_portions_given_as_text_are_accepted(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})

    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), "2", [])], order_reference="Z-5")

    assert free_of(store, cheese) == 800


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
        reserve_ingredients(store=store, lines=[line], order_reference="Z-1")
    with pytest.raises(StockError):
        check_lines_available(store, [line])

    expected = {
        "unknown size": "n'est plus à la carte",
        "foreign option": "Cette option n'existe pas pour Margherita",
        "unknown option": "Cette option n'existe pas pour Margherita",
    }[broken]
    assert expected in refused.value.message
    assert (level_of(store, cheese), reserved_of(store, cheese)) == (1000, 0)


# The kitchen starts an order: its reservation is consumed --------------------------------------


def test_starting_an_order_consumes_its_reservation(store, cheese, menu_page, admin_user):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 3, [])], order_reference="G-1")

    movements = consume_reservation(store=store, order_reference="G-1", user=admin_user)

    assert [(m.kind, m.on_hand_change, m.reserved_change, m.order_reference) for m in movements] == [
        ("consumption", -300, -300, "G-1")
    ]
    assert (level_of(store, cheese), reserved_of(store, cheese), free_of(store, cheese)) == (700, 0, 700)


def test_consuming_twice_consumes_nothing_the_second_time(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 3, [])], order_reference="G-2")
    consume_reservation(store=store, order_reference="G-2")

    assert consume_reservation(store=store, order_reference="G-2") == []

    assert (level_of(store, cheese), reserved_of(store, cheese)) == (700, 0)


def test_an_order_cancelled_after_the_kitchen_started_gives_nothing_back(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 3, [])], order_reference="G-3")
    consume_reservation(store=store, order_reference="G-3")

    assert release_ingredients(store=store, order_reference="G-3") == []

    # Used once, and no waste entry that would subtract it a second time.
    assert (level_of(store, cheese), reserved_of(store, cheese)) == (700, 0)
    assert list(StockMovement.objects.filter(order_reference="G-3").values_list("kind", flat=True)) == [
        "consumption",
        "reservation",
    ]
    assert not StockMovement.objects.filter(kind="waste").exists()


def test_a_released_order_has_nothing_left_to_consume(store, cheese, menu_page):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 3, [])], order_reference="G-4")
    release_ingredients(store=store, order_reference="G-4")

    assert consume_reservation(store=store, order_reference="G-4") == []

    assert (level_of(store, cheese), reserved_of(store, cheese)) == (1000, 0)


def test_consuming_on_a_shortage_takes_on_hand_down_to_zero_and_lifts_the_reservation(
    store, cheese, menu_page, admin_user
):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 500})
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 3, [])], order_reference="G-5")
    count_inventory(
        store=store, counts=[(cheese, 120)], user=admin_user, counted_after=last_movement_id(store)
    )

    consume_reservation(store=store, order_reference="G-5")

    assert (level_of(store, cheese), reserved_of(store, cheese)) == (0, 0)


# Inventory counts: the shelf figure, once, and every reservation kept ---------------------------


def test_a_count_posted_three_times_gives_the_shelf_figure_once(store, cheese, admin_user):
    stock(store, {cheese: 50})
    began = last_movement_id(store)

    for _press in range(3):  # a double click, then the back button and a third post
        count_inventory(store=store, counts=[(cheese, 37)], user=admin_user, counted_after=began)

    assert level_of(store, cheese) == 37
    assert StockMovement.objects.filter(kind="correction").count() == 1


def test_a_count_after_a_first_count_gives_the_shelf_figure(store, cheese, admin_user):
    stock(store, {cheese: 50})
    first = last_movement_id(store)
    count_inventory(store=store, counts=[(cheese, 37)], user=admin_user, counted_after=first)

    count_inventory(store=store, counts=[(cheese, 36)], user=admin_user, counted_after=first)

    assert level_of(store, cheese) == 36


def test_a_count_keeps_the_kitchens_use_made_while_counting(store, cheese, menu_page, admin_user):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 2, [])], order_reference="H-1")
    began = last_movement_id(store)
    consume_reservation(store=store, order_reference="H-1")  # 200 g leave the shelf while counting

    count_inventory(store=store, counts=[(cheese, 990)], user=admin_user, counted_after=began)

    assert level_of(store, cheese) == 790


def test_a_count_during_service_keeps_open_reservations(store, cheese, menu_page, admin_user):
    # The reproduction: 10 portions counted, an order holds 3 (7 on sale), the shelf is
    # counted again, then the order is cancelled: 10 on sale, never 13.
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    count_inventory(
        store=store, counts=[(cheese, 1000)], user=admin_user, counted_after=last_movement_id(store)
    )
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 3, [])], order_reference="H-2")
    assert free_of(store, cheese) == 700

    count_inventory(
        store=store, counts=[(cheese, 1000)], user=admin_user, counted_after=last_movement_id(store)
    )
    assert (level_of(store, cheese), reserved_of(store, cheese), free_of(store, cheese)) == (1000, 300, 700)

    release_ingredients(store=store, order_reference="H-2")
    assert (level_of(store, cheese), reserved_of(store, cheese), free_of(store, cheese)) == (1000, 0, 1000)


def test_a_count_below_what_is_reserved_shows_a_shortage(store, cheese, menu_page, admin_user):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 500})
    reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 4, [])], order_reference="H-3")

    count_inventory(
        store=store, counts=[(cheese, 250)], user=admin_user, counted_after=last_movement_id(store)
    )

    level = StockLevel.objects.get(store=store, ingredient=cheese)
    assert (level.on_hand, level.reserved, level.free, level.shortage) == (250, 400, -150, 150)


def test_a_count_refuses_a_start_that_is_not_a_plain_id(store, cheese, admin_user):
    stock(store, {cheese: 50})

    with pytest.raises(StockError, match="rechargez la page"):
        count_inventory(store=store, counts=[(cheese, 37)], user=admin_user, counted_after="²")

    assert level_of(store, cheese) == 50


# Bounds: no number reaches a column it does not fit ---------------------------------------------


@pytest.mark.parametrize(
    "quantity", [2147483648, "2147483648", "9" * 50, 1_000_001, "1e6", "²", "١٢", " 12 000 "]
)
def test_a_huge_or_odd_delivery_is_refused_with_a_clear_message(store, cheese, quantity):
    with pytest.raises(StockError) as refused:
        restock(store=store, lines=[(cheese, quantity)], user=None)

    assert refused.value.message in {
        "Mozzarella : La quantité ne peut pas dépasser 1\u202f000\u202f000.",
        "Mozzarella : La quantité doit être un nombre entier.",
    }
    assert not StockMovement.objects.exists()


def test_a_delivery_of_the_maximum_per_line_is_accepted(store, cheese):
    restock(store=store, lines=[(cheese, "1000000")], user=None)

    assert level_of(store, cheese) == 1_000_000


def test_a_delivery_that_would_overflow_the_level_is_refused(store, cheese):
    stock(store, {cheese: 10})
    StockLevel.objects.filter(store=store, ingredient=cheese).update(on_hand=2_147_000_000)

    with pytest.raises(StockError, match="Quantité trop grande : le stock de mozzarella dépasserait"):
        restock(store=store, lines=[(cheese, 1_000_000)], user=None)

    assert level_of(store, cheese) == 2_147_000_000


@pytest.mark.parametrize("threshold", [2147483648, "9" * 50])
def test_a_huge_threshold_is_refused(store, cheese, threshold):
    with pytest.raises(StockError, match="ne peut pas dépasser"):
        set_alert_threshold(store=store, ingredient=cheese, threshold=threshold)

    assert not StockLevel.objects.exists()


def test_a_huge_count_is_refused(store, cheese):
    with pytest.raises(StockError, match="ne peut pas dépasser"):
        count_inventory(store=store, counts=[(cheese, 2147483648)], user=None, counted_after=0)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("42", 42),
        (42, 42),
        ("²", None),
        ("-1", None),
        (" 4", None),
        ("1" * 19, None),
        ("", None),
        (True, None),
    ],
)
def test_ids_are_plain_digits_within_range(value, parsed):
    assert parse_id(value) == parsed


def test_whole_number_accepts_digits_and_integral_decimals():
    assert whole_number("12", minimum=1) == 12
    assert whole_number("12.0", minimum=1) == 12


def test_setting_a_threshold_records_who_and_when(store, cheese, admin_user):
    moment = timezone.make_aware(datetime.datetime(2026, 11, 27, 18, 30))

    level = set_alert_threshold(store=store, ingredient=cheese, threshold=200, user=admin_user, now=moment)

    level.refresh_from_db()
    assert (level.alert_threshold, level.threshold_set_by, level.threshold_set_at) == (
        200,
        admin_user,
        moment,
    )


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("", "Indiquez la référence de la commande."),
        ("   ", "Indiquez la référence de la commande."),
        ("X" * 41, "La référence de commande ne peut pas dépasser 40 caractères."),
    ],
)
def test_a_reservation_needs_a_reference_that_can_release_it(store, cheese, menu_page, reference, message):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    stock(store, {cheese: 1000})

    with pytest.raises(StockError) as refused:
        reserve_ingredients(store=store, lines=[(pizza.sizes.get(), 1, [])], order_reference=reference)

    assert refused.value.message == message
    assert reserved_of(store, cheese) == 0


def test_a_long_supplier_note_is_kept_to_the_columns_length(store, cheese):
    restock(store=store, lines=[(cheese, 100)], user=None, supplier="  " + "Métro " * 50)

    assert len(StockMovement.objects.get().note) == 200


def test_a_movement_writes_the_levels_it_changes_and_no_other(vaise, bellecour, cheese, dough, menu_page):
    pizza = product_with_recipe(menu_page, title="Fromage", recipe={cheese: 100})
    stock(vaise, {cheese: 1000, dough: 1000})
    stock(bellecour, {cheese: 1000, dough: 1000})
    before = {level.pk: level for level in StockLevel.objects.all()}

    reserve_ingredients(store=vaise, lines=[(pizza.sizes.get(), 2, [])], order_reference="A-8")

    after = {level.pk: level for level in StockLevel.objects.all()}
    changed = {
        (level.store_id, level.ingredient_id, level.on_hand, level.reserved)
        for pk, level in after.items()
        if (level.on_hand, level.reserved, level.updated_at)
        != (before[pk].on_hand, before[pk].reserved, before[pk].updated_at)
    }
    assert changed == {(vaise.id, cheese.id, 1000, 200)}
    assert not any(level.below_threshold for level in after.values())
    written = StockLevel.objects.get(store=vaise, ingredient=cheese)
    assert written.updated_at > before[written.pk].updated_at  # what auto_now would have given

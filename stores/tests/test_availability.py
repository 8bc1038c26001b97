import pytest

from menu.models import ProductExtra, ProductPage
from menu.tests.factories import ProductExtraFactory, product_with_recipe
from stores.availability import check_lines_available, menu_availability
from stores.exceptions import StockError

from .factories import stock

SIZES = [("Petite", "9.00", "1.00"), ("Grande", "15.00", "2.00")]


@pytest.fixture
def margherita(menu_page, dough, cheese):
    return product_with_recipe(menu_page, title="Margherita", recipe={dough: 200, cheese: 100}, sizes=SIZES)


def availability_of(store):
    return menu_availability(store, ProductPage.objects.live().with_recipes())


def test_each_size_can_be_made_as_many_times_as_the_scarcest_ingredient_allows(
    store, margherita, dough, cheese
):
    stock(store, {dough: 1000, cheese: 350})
    small, large = margherita.sizes.all()

    sizes = availability_of(store).sizes

    assert sizes[small.id].portions == 3 and sizes[small.id].available
    assert sizes[large.id].portions == 1


def test_a_size_missing_an_ingredient_is_unavailable_with_the_reason(store, margherita, dough, cheese):
    stock(store, {dough: 1000, cheese: 150})
    small, large = margherita.sizes.all()

    sizes = availability_of(store).sizes

    assert sizes[small.id].available
    assert not sizes[large.id].available
    assert sizes[large.id].missing == [cheese]
    assert str(sizes[large.id].reason) == "Plus de mozzarella"


def test_an_added_extra_is_unavailable_when_its_ingredient_runs_short(store, margherita, dough, cheese):
    extra = ProductExtraFactory(product=margherita, ingredient=cheese, quantity=60)
    stock(store, {dough: 1000, cheese: 150})
    small = margherita.sizes.first()

    availability = availability_of(store)

    assert availability.sizes[small.id].portions == 1
    assert not availability.extras[(small.id, extra.id)].available


def test_removing_a_missing_ingredient_makes_the_pizza_available(menu_page, store, dough, onion):
    savoyarde = product_with_recipe(menu_page, title="Savoyarde", recipe={dough: 200, onion: 30})
    without = ProductExtraFactory(product=savoyarde, ingredient=onion, kind=ProductExtra.Kind.REMOVE, price=0)
    stock(store, {dough: 1000})
    size = savoyarde.sizes.get()

    availability = availability_of(store)

    assert not availability.sizes[size.id].available
    assert availability.extras[(size.id, without.id)].portions == 5


def test_a_product_withdrawn_from_sale_is_unavailable_everywhere(store, margherita, dough, cheese):
    ProductPage.objects.filter(id=margherita.id).update(is_available=False)
    stock(store, {dough: 1000, cheese: 1000})

    sizes = availability_of(store).sizes

    assert all(not a.available and str(a.reason) == "Retiré de la vente" for a in sizes.values())


def test_a_product_without_recipe_is_not_tracked_and_stays_available(menu_page, store):
    product = product_with_recipe(menu_page, title="Menu du jour", recipe={})

    assert availability_of(store).sizes[product.sizes.get().id].available


@pytest.mark.parametrize("count", [3, 30])
def test_availability_costs_a_bounded_number_of_queries(
    menu_page, store, dough, cheese, onion, count, django_assert_max_num_queries
):
    for n in range(count):
        pizza = product_with_recipe(
            menu_page, title=f"Pizza {n}", recipe={dough: 200, cheese: 100, onion: 20}, sizes=SIZES
        )
        ProductExtraFactory(product=pizza, ingredient=cheese, quantity=50)
    stock(store, {dough: 5000, cheese: 5000})

    with django_assert_max_num_queries(12):
        availability = menu_availability(store, list(ProductPage.objects.live().with_recipes()))

    assert len(availability.sizes) == 2 * count and len(availability.extras) == 2 * count


def test_the_cart_check_passes_when_the_store_can_make_every_line(store, margherita, dough, cheese):
    stock(store, {dough: 1000, cheese: 300})
    small, large = margherita.sizes.all()

    check_lines_available(store, [(small, 1, []), (large, 1, [])])  # 300 g of mozzarella exactly


def test_the_cart_refuses_lines_the_store_cannot_make_all_together(store, margherita, dough, cheese):
    stock(store, {dough: 1000, cheese: 300})
    small, large = margherita.sizes.all()

    with pytest.raises(StockError) as refused:
        check_lines_available(store, [(small, 2, []), (large, 1, [])])

    assert refused.value.message == "Plus assez de mozzarella pour Margherita (Petite)."


def test_portions_held_by_open_orders_are_not_on_sale(store, margherita, dough, cheese):
    from stores.services import consume_reservation, release_ingredients, reserve_ingredients

    stock(store, {dough: 2000, cheese: 500})
    small, _large = margherita.sizes.all()
    reserve_ingredients(store=store, lines=[(small, 3, [])], order_reference="A-1")

    assert availability_of(store).sizes[small.id].portions == 2
    with pytest.raises(StockError, match="Plus assez de mozzarella pour Margherita"):
        check_lines_available(store, [(small, 3, [])])

    consume_reservation(store=store, order_reference="A-1")
    assert availability_of(store).sizes[small.id].portions == 2  # used: gone from the shelf too
    release_ingredients(store=store, order_reference="A-1")
    assert availability_of(store).sizes[small.id].portions == 2  # nothing comes back


def test_a_shortage_shows_nothing_on_sale_rather_than_a_negative_count(store, margherita, dough, cheese):
    from stores.models import StockLevel
    from stores.services import reserve_ingredients

    stock(store, {dough: 1000, cheese: 500})
    small, _large = margherita.sizes.all()
    reserve_ingredients(store=store, lines=[(small, 4, [])], order_reference="A-2")
    StockLevel.objects.filter(store=store, ingredient=cheese).update(on_hand=200)  # a count found less

    assert availability_of(store).sizes[small.id].portions == 0

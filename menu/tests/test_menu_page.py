from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from menu.models import Category, ProductPage

from .factories import IngredientFactory, ProductExtraFactory, ProductPageFactory, product_with_recipe


def fill_menu(menu, count):
    dough = IngredientFactory(name="Pâte", allergens=["gluten"])
    cheese = IngredientFactory(name="Mozzarella", allergens=["milk"])
    for _ in range(count):
        ProductPageFactory(
            parent=menu,
            sizes=[("Petite", "9.00"), ("Grande", "14.50")],
            ingredients=[dough, cheese],
        )


def test_menu_shows_each_product_with_its_prices_in_euros(client, menu_page):
    ProductPageFactory(
        parent=menu_page, title="Regina", sizes=[("Petite (26 cm)", "10.50"), ("Grande", "16.50")]
    )
    ProductPageFactory(parent=menu_page, title="Tiramisu", category=Category.DESSERT, sizes=[("Pot", "4.90")])

    response = client.get(menu_page.url, HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Regina" in html and "10,50\u00a0€" in html and "16,50\u00a0€" in html
    main = html[html.index('id="pizza"') :]
    assert main.index("Regina") < main.index('id="dessert"') < main.index("Tiramisu")


@pytest.mark.parametrize("count", [3, 30])
def test_menu_page_runs_a_bounded_number_of_queries(client, menu_page, count, django_assert_max_num_queries):
    fill_menu(menu_page, count)
    client.get(menu_page.url)  # warm the site and rendition caches

    with django_assert_max_num_queries(15):  # 14 + the store picker
        response = client.get(menu_page.url)

    assert response.content.decode().count('class="card product-card') == count


def test_product_page_lists_the_allergens_of_its_ingredients_once(client, menu_page):
    dough = IngredientFactory(name="Pâte", allergens=["gluten"])
    cream = IngredientFactory(name="Crème", allergens=["milk"])
    cheese = IngredientFactory(name="Gorgonzola", allergens=["milk"])
    product = ProductPageFactory(parent=menu_page, ingredients=[dough, cream, cheese])

    html = client.get(product.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert [a.code for a in ProductPage.objects.get(id=product.id).allergens] == ["gluten", "milk"]
    assert html.count("<li>Lait</li>") == 1
    assert "Céréales contenant du gluten" in html


def test_product_without_allergens_says_so(client, menu_page):
    product = ProductPageFactory(parent=menu_page, ingredients=[IngredientFactory(name="Tomate")])

    html = client.get(product.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Aucun des 14 allergènes réglementaires." in html


def test_euros_filter_formats_prices_per_language():
    template = Template("{% load menu_tags %}{{ price|euros }}")
    with translation.override("fr"):
        assert template.render(Context({"price": Decimal("1234.5")})) == "1\u00a0234,50\u00a0€"
    with translation.override("en"):
        assert template.render(Context({"price": Decimal("12.5")})) == "€12.50"


@pytest.mark.parametrize(("ingredient_count", "option_count"), [(3, 1), (12, 6)])
def test_product_page_runs_a_bounded_number_of_queries(
    client, menu_page, ingredient_count, option_count, django_assert_max_num_queries
):
    ingredients = [
        IngredientFactory(name=f"Ingrédient {n}", allergens=["milk", "gluten"])
        for n in range(ingredient_count)
    ]
    product = product_with_recipe(
        menu_page,
        title="Regina",
        recipe=dict.fromkeys(ingredients, 50),
        sizes=[("Petite", "9.00", "1.00"), ("Grande", "14.50", "1.90")],
    )
    for n in range(option_count):
        ProductExtraFactory(
            product=product,
            ingredient=IngredientFactory(name=f"Option {n}", allergens=["fish"]),
            sort_order=n,
        )
    client.get(product.url)  # warm the site and rendition caches

    # was 21 and 40 before the prefetches; +1 since the add-to-cart form lists the stores. The
    # bound was 19; the page reads 12 since the allergens of its ingredients and of its options
    # are read in one query (13 before).
    with django_assert_max_num_queries(12):
        response = client.get(product.url)

    html = response.content.decode()
    assert html.count("Ingrédient ") == ingredient_count
    assert html.count("(allergènes : Poissons)") == option_count

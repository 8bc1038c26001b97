"""Who may change what in the product editor: marketing the content, head office the recipe."""

from decimal import Decimal

import pytest
from django.urls import reverse
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from accounts.tests.factories import PASSWORD, UserFactory
from menu.models import ProductPage
from ocpizza import roles

from .factories import IngredientFactory, ProductExtraFactory, product_with_recipe

RECIPE_FIELDS = [
    'name="recipe_lines-TOTAL_FORMS"',
    'name="extras-TOTAL_FORMS"',
    'name="preparation_steps-TOTAL_FORMS"',
    'name="is_available"',
    'name="sizes-0-recipe_factor"',
]


@pytest.fixture
def product(menu_page):
    dough = IngredientFactory(name="Pâte")
    cheese = IngredientFactory(name="Mozzarella")
    product = product_with_recipe(
        menu_page,
        title="Regina",
        recipe={dough: 200, cheese: 100},
        sizes=[("Petite", "9.00", "1.00"), ("Grande", "15.00", "1.90")],
    )
    ProductExtraFactory(product=product, ingredient=cheese, quantity=40)
    return product


def login(client, group):
    client.login(username=UserFactory(groups=[group]).email, password=PASSWORD)
    return client


def edit_url(product):
    return reverse("wagtailadmin_pages:edit", args=[product.id])


def extra_data(extra):
    fields = ["id", "name", "kind", "ingredient_id", "quantity", "price"]
    return {field.removesuffix("_id"): getattr(extra, field) for field in fields}


def publish_data(product, *, summary, recipe_quantity, recipe_factor):
    """What an editor's browser posts, trying to change the recipe, options and availability too."""
    sizes = list(product.sizes.all())
    lines = list(product.recipe_lines.all())
    extras = list(product.extras.all())
    return nested_form_data(
        {
            "title": product.title,
            "slug": product.slug,
            "category": product.category,
            "vat_rate": str(product.vat_rate),
            "summary": summary,
            "description": rich_text(""),
            "is_vegetarian": "on",
            # is_available left out: an unticked checkbox, i.e. "withdraw the product"
            "sizes": inline_formset(
                [
                    {"id": size.id, "name": size.name, "price": "10.00", "recipe_factor": recipe_factor}
                    for size in sizes
                ],
                initial=len(sizes),
            ),
            "recipe_lines": inline_formset(
                [
                    {"id": line.id, "ingredient": line.ingredient_id, "quantity": recipe_quantity}
                    for line in lines
                ],
                initial=len(lines),
            ),
            "extras": inline_formset(  # delete every option
                [{**extra_data(extra), "DELETE": "1"} for extra in extras], initial=len(extras)
            ),
            "preparation_steps": inline_formset([]),
            "comments": inline_formset([]),
            "action-publish": "publish",
        }
    )


def test_marketing_edit_form_has_no_recipe_fields(client, product):
    html = login(client, roles.MARKETING).get(edit_url(product)).content.decode()

    assert 'name="summary"' in html and 'name="sizes-0-price"' in html
    assert [field for field in RECIPE_FIELDS if field in html] == []


def test_head_office_edit_form_has_the_recipe_fields(client, product):
    html = login(client, roles.HEAD_OFFICE).get(edit_url(product)).content.decode()

    assert [field for field in RECIPE_FIELDS if field not in html] == []


def test_marketing_publishes_content_but_cannot_change_the_recipe(client, product):
    data = publish_data(product, summary="La reine des pizzas.", recipe_quantity=999, recipe_factor="3.00")

    response = login(client, roles.MARKETING).post(edit_url(product), data)

    assert response.status_code == 302, response.context["form"].errors
    product = ProductPage.objects.get(id=product.id)
    assert product.summary == "La reine des pizzas."
    assert [size.price for size in product.sizes.all()] == [Decimal("10.00")] * 2
    assert [size.recipe_factor for size in product.sizes.all()] == [Decimal("1.00"), Decimal("1.90")]
    assert sorted(line.quantity for line in product.recipe_lines.all()) == [100, 200]
    assert product.extras.count() == 1
    assert product.is_available
    assert product.ingredients.count() == 2


def test_marketing_adds_a_size_with_the_reference_recipe_factor(client, product):
    data = publish_data(product, summary=product.summary, recipe_quantity=1, recipe_factor="3.00")
    data.update({"sizes-TOTAL_FORMS": "3", "sizes-2-name": "Géante", "sizes-2-price": "19.00"})
    data.update({"sizes-2-ORDER": "3", "sizes-2-DELETE": "", "sizes-2-id": ""})

    response = login(client, roles.MARKETING).post(edit_url(product), data)

    assert response.status_code == 302, response.context["form"].errors
    assert product.sizes.get(name="Géante").recipe_factor == Decimal("1.00")


def test_head_office_changes_the_recipe_and_the_availability(client, product):
    data = publish_data(product, summary=product.summary, recipe_quantity=150, recipe_factor="1.50")

    response = login(client, roles.HEAD_OFFICE).post(edit_url(product), data)

    assert response.status_code == 302, response.context["form"].errors
    product = ProductPage.objects.get(id=product.id)
    assert [line.quantity for line in product.recipe_lines.all()] == [150, 150]
    assert [size.recipe_factor for size in product.sizes.all()] == [Decimal("1.50")] * 2
    assert product.extras.count() == 0
    assert not product.is_available


def test_head_office_removes_and_adds_back_the_same_ingredient_in_one_save(client, product):
    data = publish_data(product, summary=product.summary, recipe_quantity=150, recipe_factor="1.00")
    cheese_line = product.recipe_lines.get(ingredient__name="Mozzarella")
    index = next(i for i in range(2) if data[f"recipe_lines-{i}-id"] == cheese_line.id)
    data[f"recipe_lines-{index}-DELETE"] = "1"
    data.update(
        {
            "recipe_lines-TOTAL_FORMS": "3",
            "recipe_lines-2-id": "",
            "recipe_lines-2-ingredient": cheese_line.ingredient_id,
            "recipe_lines-2-quantity": "120",
            "recipe_lines-2-ORDER": "3",
            "recipe_lines-2-DELETE": "",
        }
    )

    response = login(client, roles.HEAD_OFFICE).post(edit_url(product), data)

    assert response.status_code == 302, response.context["form"].errors
    lines = ProductPage.objects.get(id=product.id).recipe_lines
    assert lines.get(ingredient__name="Mozzarella").quantity == 120


def test_the_same_ingredient_twice_in_a_recipe_is_a_form_error_not_a_crash(client, product):
    data = publish_data(product, summary=product.summary, recipe_quantity=150, recipe_factor="1.00")
    cheese = product.recipe_lines.get(ingredient__name="Mozzarella").ingredient_id
    data.update(
        {
            "recipe_lines-TOTAL_FORMS": "3",
            "recipe_lines-2-id": "",
            "recipe_lines-2-ingredient": cheese,
            "recipe_lines-2-quantity": "120",
            "recipe_lines-2-ORDER": "3",
            "recipe_lines-2-DELETE": "",
        }
    )

    response = login(client, roles.HEAD_OFFICE).post(edit_url(product), data)

    assert response.status_code == 200
    assert sorted(line.quantity for line in product.recipe_lines.all()) == [100, 200]

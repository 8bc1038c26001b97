"""Head office's fields of a product go live only from head office, whatever the path.

Marketing cannot see a product's recipe, options, preparation, availability or recipe factors.
These tests take every path by which a revision becomes live or a page is made from another
(revert, copy, scheduled publishing, workflow approval) through the real admin views, and check
that a revision made by marketing never brings head office's fields back to older values.
"""

from decimal import Decimal

import pytest

from menu.models import PreparationStep, ProductPage, RecipeLine
from ocpizza import roles

from .factories import IngredientFactory, ProductExtraFactory, product_with_recipe
from .page_admin import (
    approve,
    copy_page,
    declared,
    edit_url,
    editor,
    gated_in_editor,
    go_live_in,
    revert_url,
    run_publish_scheduled,
    submit_editor,
)

MODERATORS = "Moderators"  # Wagtail's default workflow: its group approves

OLD = {
    "recipe": [("Mozzarella", 100), ("Pâte", 200)],
    "extras": [("Supplément mozzarella", 40, Decimal("1.50"))],
    "steps": ["Étaler la pâte"],
    "recipe_factors": [Decimal("1.00"), Decimal("1.90")],
    "is_available": True,
    "ingredients": ["Mozzarella", "Pâte"],
}
LIVE = {
    "recipe": [("Mozzarella", 120), ("Pâte", 220)],
    "extras": [("Supplément mozzarella", 60, Decimal("2.00"))],
    "steps": ["Étaler 220 g de pâte"],
    "recipe_factors": [Decimal("1.00"), Decimal("1.80")],
    "is_available": False,
    "ingredients": ["Mozzarella", "Pâte"],
}


def head_office_values(product):
    """What the kitchens and the stock read from the live product, fresh from the database."""
    product = ProductPage.objects.get(pk=product.pk)
    return {
        "recipe": sorted((line.ingredient.name, line.quantity) for line in product.recipe_lines.all()),
        "extras": sorted((extra.name, extra.quantity, extra.price) for extra in product.extras.all()),
        "steps": [step.text for step in product.preparation_steps.order_by("sort_order")],
        "recipe_factors": [size.recipe_factor for size in product.sizes.order_by("sort_order")],
        "is_available": product.is_available,
        "ingredients": sorted(ingredient.name for ingredient in product.ingredients.all()),
    }


@pytest.fixture
def head_office_user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory(groups=[roles.HEAD_OFFICE])


@pytest.fixture
def product(menu_page, head_office_user):
    """A product whose first published revision (`product.old_revision`) holds OLD, and live LIVE."""
    cheese = IngredientFactory(name="Mozzarella")
    product = product_with_recipe(
        menu_page,
        title="Regina",
        recipe={IngredientFactory(name="Pâte"): 200, cheese: 100},
        sizes=[("Petite", "9.00", "1.00"), ("Grande", "15.00", "1.90")],
    )
    ProductExtraFactory(product=product, ingredient=cheese, quantity=40, price=Decimal("1.50"))
    PreparationStep.objects.create(product=product, text="Étaler la pâte")
    old_revision = product.save_revision(user=head_office_user)
    old_revision.publish(user=head_office_user)

    # Head office changes every one of its fields and publishes.
    for line in RecipeLine.objects.filter(product=product):
        line.quantity += 20
        line.save()
    product.extras.update(quantity=60, price=Decimal("2.00"))
    product.preparation_steps.update(text="Étaler 220 g de pâte")
    product.sizes.filter(name="Grande").update(recipe_factor=Decimal("1.80"))
    product = ProductPage.objects.get(pk=product.pk)
    product.is_available = False
    product.save_revision(user=head_office_user).publish(user=head_office_user)
    assert head_office_values(product) == LIVE
    product.old_revision = old_revision
    return product


@pytest.fixture
def head_office_draft(product, head_office_user):
    """Head office saves, without publishing, a recipe change it has not decided on yet."""
    draft = ProductPage.objects.get(pk=product.pk)
    lines = list(draft.recipe_lines.all())
    for line in lines:
        line.quantity = 999
    draft.recipe_lines = lines
    draft.is_available = True
    return draft.save_revision(user=head_office_user)


# Revert


def test_marketing_publishing_an_old_revision_keeps_the_live_recipe(client, product):
    submit_editor(
        editor(client, roles.MARKETING),
        revert_url(product, product.old_revision),
        "publish",
        summary="Retour",
    )

    assert ProductPage.objects.get(pk=product.pk).summary == "Retour"
    assert head_office_values(product) == LIVE


def test_marketing_draft_of_an_old_revision_does_not_bring_its_recipe_back_when_head_office_publishes(
    client, product
):
    submit_editor(editor(client, roles.MARKETING), revert_url(product, product.old_revision), None)
    client.logout()

    # Head office opens the editor on marketing's draft and publishes it as it stands.
    submit_editor(editor(client, roles.HEAD_OFFICE), edit_url(product), "publish")

    assert head_office_values(product) == LIVE


# Copy


@pytest.mark.parametrize("publish", [True, False], ids=["published copy", "draft copy"])
def test_marketing_copy_publishes_the_live_recipe_not_a_head_office_draft(
    client, product, head_office_draft, publish
):
    marketing = editor(client, roles.MARKETING)
    copy = copy_page(marketing, product, title="Regina bis", slug="regina-bis", publish=publish)

    submit_editor(marketing, edit_url(copy), "publish", summary="La copie")

    assert ProductPage.objects.get(pk=copy.pk).summary == "La copie"
    assert head_office_values(copy) == LIVE


# Scheduled publishing


def test_old_revision_scheduled_by_marketing_goes_live_without_its_old_recipe(client, product):
    submit_editor(
        editor(client, roles.MARKETING),
        revert_url(product, product.old_revision),
        "publish",
        summary="Programmée",
        go_live_at=go_live_in(days=1),
    )

    run_publish_scheduled(days_later=2)

    assert ProductPage.objects.get(pk=product.pk).summary == "Programmée"
    assert head_office_values(product) == LIVE


def test_recipe_changed_after_marketing_scheduled_an_edit_stays_when_the_edit_goes_live(client, product):
    submit_editor(
        editor(client, roles.MARKETING),
        edit_url(product),
        "publish",
        summary="Programmée",
        go_live_at=go_live_in(days=1),
    )
    # Meanwhile head office's recipe changes outside the page editor (a correction of the data).
    RecipeLine.objects.filter(product=product, ingredient__name="Pâte").update(quantity=250)
    ProductPage.objects.filter(pk=product.pk).update(is_available=True)

    run_publish_scheduled(days_later=2)

    assert ProductPage.objects.get(pk=product.pk).summary == "Programmée"
    assert head_office_values(product) == {
        **LIVE,
        "recipe": [("Mozzarella", 120), ("Pâte", 250)],
        "is_available": True,
    }


def test_head_office_scheduled_recipe_change_goes_live(client, product):
    head_office = editor(client, roles.HEAD_OFFICE)
    submit_editor(
        head_office,
        edit_url(product),
        "publish",
        go_live_at=go_live_in(days=1),
        **{"recipe_lines-0-quantity": "300", "recipe_lines-1-quantity": "300", "is_available": "on"},
    )
    assert head_office_values(product) == LIVE  # not yet

    run_publish_scheduled(days_later=2)

    assert head_office_values(product) == {
        **LIVE,
        "recipe": [("Mozzarella", 300), ("Pâte", 300)],
        "is_available": True,
    }


# Workflow approval


def test_old_revision_submitted_by_marketing_and_approved_by_head_office_keeps_the_live_recipe(
    client, product
):
    submit_editor(
        editor(client, roles.MARKETING),
        revert_url(product, product.old_revision),
        "submit",
        summary="Soumise",
    )
    client.logout()

    approve(editor(client, roles.HEAD_OFFICE, MODERATORS), product)

    assert ProductPage.objects.get(pk=product.pk).summary == "Soumise"
    assert head_office_values(product) == LIVE


def test_every_field_the_editor_hides_from_marketing_is_kept_live():
    assert gated_in_editor(ProductPage) == declared(ProductPage.head_office_fields, derived=["ingredients"])


def test_head_office_recipe_change_approved_by_a_moderator_without_the_permission_goes_live(client, product):
    submit_editor(
        editor(client, roles.HEAD_OFFICE),
        edit_url(product),
        "submit",
        **{"recipe_lines-0-quantity": "300", "recipe_lines-1-quantity": "300", "is_available": "on"},
    )
    client.logout()

    approve(editor(client, MODERATORS), product)

    assert head_office_values(product) == {
        **LIVE,
        "recipe": [("Mozzarella", 300), ("Pâte", 300)],
        "is_available": True,
    }


def test_an_alias_follows_the_product_as_published_not_marketing_scheduled_revision(client, product):
    marketing = editor(client, roles.MARKETING)
    alias = copy_page(marketing, product, title=product.title, slug="regina-alias", alias=True)
    submit_editor(
        marketing, edit_url(product), "publish", summary="Programmée", go_live_at=go_live_in(days=1)
    )
    ProductPage.objects.filter(pk=product.pk).update(is_available=True)  # changed outside the editor

    run_publish_scheduled(days_later=2)

    assert ProductPage.objects.get(pk=alias.pk).summary == "Programmée"
    assert head_office_values(alias) == head_office_values(product) == {**LIVE, "is_available": True}


def test_recipe_changed_after_marketing_scheduled_an_edit_stays_when_its_author_was_deleted(client, product):
    submit_editor(
        editor(client, roles.MARKETING),
        edit_url(product),
        "publish",
        summary="Programmée",
        go_live_at=go_live_in(days=1),
    )
    # The marketing author leaves the company: the revision keeps no user.
    ProductPage.objects.get(pk=product.pk).latest_revision.user.delete()
    RecipeLine.objects.filter(product=product, ingredient__name="Pâte").update(quantity=250)

    run_publish_scheduled(days_later=2)

    assert ProductPage.objects.get(pk=product.pk).summary == "Programmée"
    assert head_office_values(product)["recipe"] == [("Mozzarella", 120), ("Pâte", 250)]

"""A promotion's checkout rule: edited in its admin, validated, and applied only once published."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import rich_text

from accounts.tests.factories import PASSWORD, UserFactory
from home.demo import FREE_DESSERT_TITLE, WELCOME_CODE, add_promotion_rules
from home.models import Promotion, current_promotion_rules
from menu.models import Category
from menu.promotions import PromotionRule, current_rules
from menu.tests.factories import ProductPageFactory
from ocpizza import roles

from .factories import PromotionFactory

FREE_DESSERT = {
    "rule_kind": "free_product",
    "min_quantity": 2,
    "condition_category": "pizza",
    "target_category": "dessert",
}
WELCOME = {
    "rule_kind": "percent_off",
    "code": "BIENVENUE",
    "min_subtotal": Decimal("20.00"),
    "target_category": "basket",
    "percent": Decimal("10.00"),
}


def validation_errors(promotion):
    with pytest.raises(ValidationError) as refused:
        promotion.full_clean()
    return {field: [str(m) for m in messages] for field, messages in refused.value.message_dict.items()}


# Validation


@pytest.mark.parametrize(
    "fields",
    [
        FREE_DESSERT,
        WELCOME,
        {"rule_kind": "percent_off", "target_category": "basket", "percent": Decimal("100")},
        {"rule_kind": "amount_off", "target_category": "dessert", "amount": Decimal("5"), "code": "dessert5"},
        {"rule_kind": "free_product", "min_subtotal": Decimal("30"), "target_category": "drink"},
        {"rule_kind": "none"},
    ],
)
def test_coherent_rules_are_accepted(db, fields):
    PromotionFactory.build(**fields).full_clean()


def test_a_free_product_on_a_chosen_product_is_accepted(menu_page):
    tiramisu = ProductPageFactory(parent=menu_page, title="Tiramisu", category=Category.DESSERT)

    PromotionFactory.build(rule_kind="free_product", min_quantity=1, target_product=tiramisu).full_clean()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"rule_kind": "percent_off", "target_category": "basket", "percent": Decimal("0")},
            "percent",
            "Le pourcentage doit être supérieur à 0 et au plus 100.",
        ),
        (
            {"rule_kind": "percent_off", "target_category": "basket", "percent": Decimal("100.01")},
            "percent",
            "Le pourcentage doit être supérieur à 0 et au plus 100.",
        ),
        (
            {"rule_kind": "percent_off", "target_category": "basket"},
            "percent",
            "Indiquez le pourcentage de remise.",
        ),
        (
            {"rule_kind": "amount_off", "target_category": "basket", "amount": Decimal("0")},
            "amount",
            "Le montant de la remise doit être supérieur à 0.",
        ),
        (
            {"rule_kind": "amount_off", "target_category": "basket", "amount": Decimal("-5")},
            "amount",
            "Le montant de la remise doit être supérieur à 0.",
        ),
        (
            {"rule_kind": "amount_off", "target_category": "basket"},
            "amount",
            "Indiquez le montant de la remise.",
        ),
        (
            {"rule_kind": "amount_off", "target_category": "basket", "amount": 5, "percent": 5},
            "percent",
            "Un pourcentage ne s'indique que pour une remise en pourcentage.",
        ),
        (
            {"rule_kind": "percent_off", "target_category": "basket", "percent": 5, "amount": 5},
            "amount",
            "Un montant ne s'indique que pour une remise en euros.",
        ),
        (
            {"rule_kind": "free_product", "min_quantity": 2, "condition_category": "pizza"},
            "target_product",
            "Choisissez le produit offert : une catégorie (le moins cher est offert) ou un produit.",
        ),
        (
            {"rule_kind": "free_product", "min_quantity": 2, "target_category": "basket"},
            "target_category",
            "Un produit offert se choisit dans une catégorie ou parmi les produits, pas « tout le panier ».",
        ),
        (
            {"rule_kind": "free_product", "target_category": "dessert"},
            "min_quantity",
            "Un produit offert demande une condition : une quantité minimale, un montant minimal ou un code.",
        ),
        (
            {"rule_kind": "free_product", "condition_category": "pizza", "target_category": "dessert"},
            "min_quantity",
            "Indiquez combien de produits de cette catégorie ou de cette taille le panier doit contenir.",
        ),
        (
            {"rule_kind": "percent_off", "percent": Decimal(10)},
            "target_category",
            "Choisissez à quoi s'applique la remise : le panier, une catégorie ou un produit.",
        ),
        (
            {"rule_kind": "percent_off", "target_category": "basket", "percent": 10, "min_subtotal": 0},
            "min_subtotal",
            "Le montant minimal doit être supérieur à 0.",
        ),
        (
            {"rule_kind": "none", "code": "NOEL"},
            "code",
            "Un code n'a de sens qu'avec une règle : choisissez un type de règle.",
        ),
        (
            {"rule_kind": "percent_off", "target_category": "basket", "percent": 10, "code": "NOËL"},
            "code",
            "Le code ne peut contenir que des lettres sans accent, des chiffres, « - » et « _ ».",
        ),
    ],
)
def test_incoherent_rules_are_refused_in_french(db, fields, field, message):
    assert validation_errors(PromotionFactory.build(**fields))[field] == [message]


def test_a_category_and_a_product_together_are_refused(menu_page):
    tiramisu = ProductPageFactory(parent=menu_page, title="Tiramisu", category=Category.DESSERT)
    promotion = PromotionFactory.build(
        rule_kind="free_product", min_quantity=2, target_category="dessert", target_product=tiramisu
    )

    assert validation_errors(promotion) == {
        "target_product": ["Choisissez soit une catégorie, soit un produit, pas les deux."]
    }


def test_the_code_is_stored_trimmed_and_upper_case(db):
    promotion = PromotionFactory(**{**WELCOME, "code": " bienvenue "})

    assert Promotion.objects.get(pk=promotion.pk).code == "BIENVENUE"


def test_the_database_refuses_an_out_of_range_percent(db):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        PromotionFactory(rule_kind="percent_off", target_category="basket", percent=Decimal("150"))


def test_a_code_in_use_over_an_overlapping_period_is_refused(db):
    now = timezone.now()
    winter = {"starts_at": now, "ends_at": now + datetime.timedelta(days=30)}
    PromotionFactory(title="Bienvenue d'hiver", **WELCOME, **winter)
    overlapping = PromotionFactory.build(
        **{**WELCOME, "code": "bienvenue"},
        starts_at=now + datetime.timedelta(days=29),
        ends_at=now + datetime.timedelta(days=60),
    )
    later = PromotionFactory.build(
        **WELCOME, starts_at=now + datetime.timedelta(days=30), ends_at=now + datetime.timedelta(days=60)
    )

    assert validation_errors(overlapping) == {
        "code": [
            "Le code BIENVENUE est déjà celui de la promotion « Bienvenue d'hiver » sur une période qui "
            "chevauche celle-ci."
        ]
    }
    later.full_clean()


# The rule source


def test_a_published_current_promotion_gives_its_rule(db):
    promotion = PromotionFactory(title="2 pizzas, le dessert offert", **FREE_DESSERT)
    PromotionFactory(title="Affichée seulement")

    assert current_rules() == [
        PromotionRule(
            promotion_id=promotion.pk,
            title="2 pizzas, le dessert offert",
            kind="free_product",
            min_quantity=2,
            condition_category="pizza",
            target_category="dessert",
        )
    ]


def test_draft_scheduled_and_expired_promotions_give_no_rule(db):
    now = timezone.now()
    PromotionFactory(**FREE_DESSERT, live=False)
    PromotionFactory(**WELCOME, starts_at=now + datetime.timedelta(hours=1))
    expired = {"starts_at": now - datetime.timedelta(days=9), "ends_at": now - datetime.timedelta(seconds=1)}
    PromotionFactory(**FREE_DESSERT, **expired)

    assert current_rules(now) == []


def test_an_unpublished_change_does_not_apply_until_published(db):
    promotion = PromotionFactory(**WELCOME)
    promotion.save_revision().publish()
    promotion.percent = Decimal("50.00")
    promotion.save_revision()  # a draft, as "Enregistrer le brouillon" makes it

    assert [rule.percent for rule in current_rules()] == [Decimal("10.00")]

    promotion.latest_revision.publish()
    assert [rule.percent for rule in current_rules()] == [Decimal("50.00")]


def test_a_rule_applies_only_within_the_validity_period(db):
    now = timezone.now()
    promotion = PromotionFactory(**WELCOME, starts_at=now, ends_at=now + datetime.timedelta(days=1))

    assert [r.promotion_id for r in current_rules(now)] == [promotion.pk]
    assert current_rules(now - datetime.timedelta(seconds=1)) == []
    assert current_rules(now + datetime.timedelta(days=1)) == []


def test_of_two_current_promotions_with_one_code_only_the_one_ending_first_applies(db):
    now = timezone.now()
    # The admin refuses this; rows written by other means must still give one rule per code.
    PromotionFactory(title="Longue", **WELCOME, ends_at=now + datetime.timedelta(days=30))
    short = PromotionFactory(title="Courte", **WELCOME, ends_at=now + datetime.timedelta(days=3))

    assert [r.promotion_id for r in current_promotion_rules(now)] == [short.pk]


def test_a_rule_whose_product_was_deleted_gives_nothing(menu_page):
    tiramisu = ProductPageFactory(parent=menu_page, title="Tiramisu", category=Category.DESSERT)
    PromotionFactory(**{**FREE_DESSERT, "target_category": ""}, target_product=tiramisu)
    assert [r.target_product_id for r in current_rules()] == [tiramisu.pk]

    tiramisu.delete()

    assert current_rules() == []


# Admin


@pytest.fixture
def marketing_client(client, db):
    user = UserFactory(groups=[roles.MARKETING])
    client.login(username=user.email, password=PASSWORD)
    return client


def edit_url(promotion):
    return reverse("wagtailsnippets_home_promotion:edit", args=[promotion.pk])


def edit_form(promotion, **rule):
    data = {
        "title": promotion.title,
        "image": "",
        "text": rich_text("<p>Deux pizzas achetées, le tiramisu offert.</p>"),
        "starts_at": timezone.localtime(promotion.starts_at).strftime("%Y-%m-%d %H:%M"),
        "ends_at": timezone.localtime(promotion.ends_at).strftime("%Y-%m-%d %H:%M"),
        "go_live_at": "",
        "expire_at": "",
        "rule_kind": "none",
        "code": "",
        "min_quantity": "0",
        "condition_category": "",
        "condition_size": "",
        "min_subtotal": "",
        "target_category": "",
        "target_product": "",
        "percent": "",
        "amount": "",
    }
    data.update(rule)
    return data


def test_the_promotion_admin_shows_the_rule_panel(marketing_client):
    promotion = PromotionFactory()

    page = marketing_client.get(edit_url(promotion))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Règle appliquée au panier" in html
    assert all(f'name="{field}"' in html for field in ("rule_kind", "code", "min_quantity", "target_product"))


def test_marketing_publishes_a_rule_through_the_admin(marketing_client, menu_page):
    tiramisu = ProductPageFactory(parent=menu_page, title="Tiramisu", category=Category.DESSERT)
    promotion = PromotionFactory(title="Le tiramisu offert")
    data = edit_form(
        promotion,
        rule_kind="free_product",
        min_quantity="2",
        condition_category="pizza",
        condition_size="Grande",
        target_product=str(tiramisu.pk),
        code=" tiramisu ",
    )

    response = marketing_client.post(edit_url(promotion), {**data, "action-publish": "publish"})

    assert response.status_code == 302
    assert current_rules() == [
        PromotionRule(
            promotion_id=promotion.pk,
            title="Le tiramisu offert",
            kind="free_product",
            code="TIRAMISU",
            min_quantity=2,
            condition_category="pizza",
            condition_size="Grande",
            target_product_id=tiramisu.pk,
        )
    ]


def test_a_rule_saved_as_draft_in_the_admin_does_not_apply(marketing_client):
    promotion = PromotionFactory(title="Bientôt -10 %")
    data = edit_form(promotion, rule_kind="percent_off", target_category="basket", percent="10")

    response = marketing_client.post(edit_url(promotion), data)

    assert response.status_code == 302
    assert Promotion.objects.get(pk=promotion.pk).has_unpublished_changes
    assert current_rules() == []


def test_the_admin_refuses_an_incoherent_rule_with_its_message(marketing_client):
    promotion = PromotionFactory()
    data = edit_form(promotion, rule_kind="percent_off", target_category="basket", percent="120")

    response = marketing_client.post(edit_url(promotion), {**data, "action-publish": "publish"})

    assert response.status_code == 200
    assert "Le pourcentage doit être supérieur à 0 et au plus 100." in response.content.decode()
    assert Promotion.objects.get(pk=promotion.pk).rule_kind == "none"


# Demo


def test_the_demo_promotion_gets_its_rule_and_the_welcome_code_once(db):
    old_demo = PromotionFactory(title=FREE_DESSERT_TITLE)
    old_demo.save_revision().publish()

    added = add_promotion_rules()

    assert added == "la règle « dessert offert », le code promotionnel BIENVENUE"
    rules = {rule.title: rule for rule in current_rules()}
    assert rules[FREE_DESSERT_TITLE] == PromotionRule(
        promotion_id=old_demo.pk,
        title=FREE_DESSERT_TITLE,
        kind="free_product",
        min_quantity=2,
        condition_category="pizza",
        target_category="dessert",
    )
    welcome = next(rule for rule in rules.values() if rule.code == WELCOME_CODE)
    assert (welcome.kind, welcome.percent, welcome.min_subtotal) == ("percent_off", Decimal(10), Decimal(20))

    assert add_promotion_rules() == ""
    assert Promotion.objects.count() == 2


def test_the_rules_are_read_in_one_query_as_the_orm_reads_them(db, django_assert_num_queries):
    """The hand-written read of the current promotions gives the rules the ORM's queryset gives,
    in its order, for current, scheduled, expired, ruleless and draft promotions."""
    now = timezone.now()
    PromotionFactory(title="Bienvenue", **WELCOME, ends_at=now + datetime.timedelta(days=5))
    PromotionFactory(title="Dessert", **FREE_DESSERT, ends_at=now + datetime.timedelta(days=2))
    PromotionFactory(title="Plus tard", **WELCOME, starts_at=now + datetime.timedelta(days=1))
    PromotionFactory(title="Sans règle", ends_at=now + datetime.timedelta(days=1))
    PromotionFactory(title="Brouillon", **FREE_DESSERT, live=False)
    expected = [promotion.as_rule() for promotion in Promotion.objects.current(now).with_rule()]

    with django_assert_num_queries(1):
        rules = current_promotion_rules(now)

    assert rules == expected
    assert [rule.title for rule in rules] == ["Dessert", "Bienvenue"]
    welcome = rules[1]  # Decimals as the ORM gives them (SQLite's converters), not equal floats
    assert (type(welcome.percent), type(welcome.min_subtotal), str(welcome.percent)) == (
        Decimal,
        Decimal,
        "10.00",
    )

"""Promotion rules on a priced basket: free products, percentages, amounts, codes and hints."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from menu.promotions import PromotionRule
from ordering.promotions import (
    UNKNOWN_CODE_MESSAGE,
    BasketItem,
    Discount,
    apply_rules,
    money,
    offer_hints,
    unknown_code,
)

D = Decimal
FOOD = D("10.00")
ALCOHOL = D("20.00")

FREE_DESSERT = PromotionRule(
    promotion_id=1,
    title="2 pizzas achetées, le dessert offert",
    kind="free_product",
    min_quantity=2,
    condition_category="pizza",
    target_category="dessert",
)
WELCOME = PromotionRule(
    promotion_id=2,
    title="Bienvenue",
    kind="percent_off",
    code="BIENVENUE",
    min_subtotal=D("20.00"),
    target_category="basket",
    percent=D("10"),
)


def pizza(quantity=1, price="12.50", size="Moyenne", product_id=10):
    return BasketItem(product_id, "pizza", size, quantity, D(price), FOOD)


def dessert(quantity=1, price="4.90", product_id=20):
    return BasketItem(product_id, "dessert", "Pot individuel", quantity, D(price), FOOD)


def wine(quantity=1, price="14.90", product_id=30):
    return BasketItem(product_id, "drink", "75 cl", quantity, D(price), ALCOHOL)


def soda(quantity=1, price="2.50", product_id=31):
    return BasketItem(product_id, "drink", "33 cl", quantity, D(price), FOOD)


def total(discounts):
    return sum((d.amount for d in discounts), D("0.00"))


# Free product


def test_two_pizzas_get_the_dessert_free():
    discounts = apply_rules([FREE_DESSERT], [pizza(2), dessert()])

    assert discounts == [Discount("2 pizzas achetées, le dessert offert", D("4.90"), FOOD, 1)]


def test_one_pizza_gets_nothing():
    assert apply_rules([FREE_DESSERT], [pizza(1), dessert()]) == []


def test_the_cheapest_dessert_is_the_free_one():
    items = [pizza(2), dessert(price="4.90", product_id=20), dessert(price="3.90", product_id=21)]

    assert total(apply_rules([FREE_DESSERT], items)) == D("3.90")


def test_one_free_dessert_per_group_of_two_pizzas():
    desserts = [dessert(2, price="4.90", product_id=20), dessert(1, price="3.90", product_id=21)]

    assert total(apply_rules([FREE_DESSERT], [pizza(4), *desserts])) == D("8.80")  # 3.90 + 4.90
    assert total(apply_rules([FREE_DESSERT], [pizza(5), *desserts])) == D("8.80")
    assert total(apply_rules([FREE_DESSERT], [pizza(6), *desserts])) == D("13.70")
    assert total(apply_rules([FREE_DESSERT], [pizza(3), *desserts])) == D("3.90")


def test_pizzas_of_different_lines_and_sizes_count_together():
    items = [pizza(1, size="Petite", product_id=10), pizza(1, size="Grande", product_id=11), dessert()]

    assert total(apply_rules([FREE_DESSERT], items)) == D("4.90")


def test_a_size_condition_counts_only_that_size_case_insensitively():
    rule = PromotionRule(
        3, "2 grandes, le dessert offert", "free_product", min_quantity=2, condition_category="pizza",
        condition_size="grande", target_category="dessert",
    )  # fmt: skip

    assert apply_rules([rule], [pizza(1, size="Grande"), pizza(1, size="Moyenne"), dessert()]) == []
    assert total(apply_rules([rule], [pizza(2, size=" GRANDE "), dessert()])) == D("4.90")


def test_third_pizza_free_does_not_give_one_of_the_two_paid_pizzas():
    rule = PromotionRule(
        4, "La 3e pizza offerte", "free_product", min_quantity=2, condition_category="pizza",
        target_category="pizza",
    )  # fmt: skip

    assert apply_rules([rule], [pizza(2)]) == []
    three = [pizza(2, price="12.50", product_id=10), pizza(1, price="9.00", product_id=11)]
    assert apply_rules([rule], three) == [Discount("La 3e pizza offerte", D("9.00"), FOOD, 4)]
    assert total(apply_rules([rule], [pizza(5)])) == D("12.50")
    assert total(apply_rules([rule], [pizza(6)])) == D("25.00")


def test_a_free_product_target_is_that_product_only():
    rule = PromotionRule(
        5, "Tiramisu offert", "free_product", min_quantity=1, condition_category="pizza", target_product_id=20
    )

    assert apply_rules([rule], [pizza(), dessert(product_id=21, price="3.90")]) == []
    assert total(apply_rules([rule], [pizza(), dessert(product_id=20), dessert(product_id=21)])) == D("4.90")


def test_a_free_product_of_an_alcohol_rate_gives_a_discount_at_that_rate():
    rule = PromotionRule(
        6, "Vin offert", "free_product", min_quantity=3, condition_category="pizza", target_category="drink"
    )

    discounts = apply_rules([rule], [pizza(3), wine(), soda(2)])

    assert discounts == [Discount("Vin offert", D("2.50"), FOOD, 6)]
    assert apply_rules([rule], [pizza(3), wine()]) == [Discount("Vin offert", D("14.90"), ALCOHOL, 6)]


def test_a_unit_given_free_by_one_rule_is_not_given_again_by_another():
    other = PromotionRule(
        7, "Dessert offert dès 3 pizzas", "free_product", min_quantity=3, condition_category="pizza",
        target_category="dessert",
    )  # fmt: skip
    items = [pizza(3), dessert(1, price="4.90", product_id=20), dessert(1, price="3.90", product_id=21)]

    discounts = apply_rules([FREE_DESSERT, other], items)

    assert [(d.promotion_id, d.amount) for d in discounts] == [(1, D("3.90")), (7, D("4.90"))]
    only_one = apply_rules([FREE_DESSERT, other], [pizza(3), dessert()])
    assert [(d.promotion_id, d.amount) for d in only_one] == [(1, D("4.90"))]


# Percentages and amounts


def test_percent_off_the_basket_is_split_by_vat_rate_exactly():
    items = [pizza(2), wine()]  # 25.00 at 10 %, 14.90 at 20 %: 10 % of 39.90 is 3.99

    discounts = apply_rules([WELCOME], items, code="BIENVENUE")

    assert discounts == [
        Discount("Bienvenue", D("2.50"), FOOD, 2),
        Discount("Bienvenue", D("1.49"), ALCOHOL, 2),
    ]


def test_percent_rounds_half_up_to_the_cent():
    rule = PromotionRule(8, "-10 %", "percent_off", target_category="basket", percent=D("10"))

    assert total(apply_rules([rule], [pizza(price="12.35")])) == D("1.24")  # 1.235
    assert total(apply_rules([rule], [pizza(price="12.34")])) == D("1.23")  # 1.234


def test_a_split_across_rates_sums_to_the_rounded_discount():
    rule = PromotionRule(9, "-15 %", "percent_off", target_category="basket", percent=D("15"))
    items = [pizza(1, price="10.01"), wine(1, price="10.01"), soda(1, price="0.01")]  # 20.03 -> 3.0045

    discounts = apply_rules([rule], items)

    assert total(discounts) == D("3.00")
    assert [(d.vat_rate, d.amount) for d in discounts] == [(FOOD, D("1.50")), (ALCOHOL, D("1.50"))]


def test_percent_off_a_category_leaves_the_rest_alone():
    rule = PromotionRule(10, "Desserts -50 %", "percent_off", target_category="dessert", percent=D("50"))

    assert apply_rules([rule], [pizza(2), dessert(2, price="4.90")]) == [
        Discount("Desserts -50 %", D("4.90"), FOOD, 10)
    ]
    assert apply_rules([rule], [pizza(2)]) == []


def test_amount_off_a_product_never_exceeds_it():
    rule = PromotionRule(11, "5 € sur le tiramisu", "amount_off", target_product_id=20, amount=D("5.00"))

    assert total(apply_rules([rule], [pizza(), dessert(product_id=20, price="4.90")])) == D("4.90")
    assert total(apply_rules([rule], [pizza(), dessert(2, product_id=20, price="4.90")])) == D("5.00")


def test_amount_off_the_basket_is_split_by_vat_rate():
    rule = PromotionRule(12, "5 € offerts", "amount_off", target_category="basket", amount=D("5"))

    discounts = apply_rules([rule], [pizza(1, price="10.00"), wine(1, price="20.00")])

    assert [(d.vat_rate, d.amount) for d in discounts] == [(FOOD, D("1.67")), (ALCOHOL, D("3.33"))]


def test_a_condition_on_quantity_gates_a_percentage():
    rule = PromotionRule(
        13, "-20 % dès 3 pizzas", "percent_off", min_quantity=3, condition_category="pizza",
        target_category="pizza", percent=D("20"),
    )  # fmt: skip

    assert apply_rules([rule], [pizza(2)]) == []
    assert total(apply_rules([rule], [pizza(3, price="10.00")])) == D("6.00")


def test_a_minimum_subtotal_is_reached_at_exactly_that_amount():
    below = [pizza(1, price="19.99")]
    exact = [pizza(1, price="10.00"), dessert(1, price="10.00")]

    assert apply_rules([WELCOME], below, code="BIENVENUE") == []
    assert total(apply_rules([WELCOME], exact, code="BIENVENUE")) == D("2.00")


def test_discounts_combined_never_make_the_basket_negative():
    everything = PromotionRule(14, "Tout offert", "percent_off", target_category="basket", percent=D("100"))
    more = PromotionRule(15, "50 € offerts", "amount_off", target_category="basket", amount=D("50"))
    items = [pizza(2), dessert(), wine()]  # 44.80

    discounts = apply_rules([FREE_DESSERT, everything, more], items)

    assert total(discounts) == D("44.80")
    assert [(d.promotion_id, d.amount) for d in discounts] == [
        (1, D("4.90")),
        (14, D("25.00")),
        (14, D("14.90")),
    ]


def test_a_percentage_applies_to_what_is_left_after_a_free_product():
    discounts = apply_rules([WELCOME, FREE_DESSERT], [pizza(2), dessert()], code="bienvenue")

    assert discounts == [
        Discount("2 pizzas achetées, le dessert offert", D("4.90"), FOOD, 1),
        Discount("Bienvenue", D("2.50"), FOOD, 2),
    ]


# Codes


@pytest.mark.parametrize("typed", ["BIENVENUE", "bienvenue", "  Bienvenue \n"])
def test_a_code_rule_applies_when_its_code_is_typed_in_any_case(typed):
    assert total(apply_rules([WELCOME], [pizza(2)], code=typed)) == D("2.50")


@pytest.mark.parametrize("typed", ["", "BIENVENU", "BIENVENUE2"])
def test_a_code_rule_does_not_apply_without_its_code(typed):
    assert apply_rules([WELCOME], [pizza(2)], code=typed) == []


def test_an_automatic_rule_applies_whatever_code_is_typed():
    assert total(apply_rules([FREE_DESSERT, WELCOME], [pizza(2), dessert()], code="AUTRE")) == D("4.90")


def test_unknown_code():
    rules = [FREE_DESSERT, WELCOME]

    assert unknown_code(rules, "") is False
    assert unknown_code(rules, "   ") is False
    assert unknown_code(rules, " bienvenue ") is False
    assert unknown_code(rules, "NOEL") is True
    assert unknown_code([], "BIENVENUE") is True
    assert str(UNKNOWN_CODE_MESSAGE) == "Code promotionnel inconnu ou expiré."


# Hints


def test_a_hint_when_the_dessert_is_earned_but_missing():
    assert offer_hints([FREE_DESSERT], [pizza(2)]) == ["Votre dessert est offert : ajoutez-en un."]
    assert offer_hints([FREE_DESSERT], [pizza(4), dessert()]) == ["Votre dessert est offert : ajoutez-en un."]


def test_no_hint_when_the_dessert_is_there_or_not_earned():
    assert offer_hints([FREE_DESSERT], [pizza(2), dessert()]) == []
    assert offer_hints([FREE_DESSERT], [pizza(1)]) == []
    assert offer_hints([FREE_DESSERT], [pizza(3), dessert()]) == []


def test_a_hint_for_the_third_pizza():
    rule = PromotionRule(
        4, "La 3e pizza offerte", "free_product", min_quantity=2, condition_category="pizza",
        target_category="pizza",
    )  # fmt: skip

    assert offer_hints([rule], [pizza(2)]) == ["Votre pizza est offerte : ajoutez-en une."]
    assert offer_hints([rule], [pizza(3)]) == []


def test_a_hint_for_a_free_product_names_the_promotion():
    rule = PromotionRule(
        5, "Tiramisu offert", "free_product", min_quantity=1, condition_category="pizza", target_product_id=20
    )

    assert offer_hints([rule], [pizza()]) == [
        "« Tiramisu offert » : un produit vous est offert, ajoutez-le à votre panier."
    ]


def test_a_code_rule_hints_only_once_typed():
    assert offer_hints([WELCOME], [pizza(1, price="9.90")]) == []
    assert offer_hints([WELCOME], [pizza(1, price="9.90")], code="bienvenue") == [
        "Le code BIENVENUE s'applique à partir de 20,00\xa0€ d'achats."
    ]
    assert offer_hints([WELCOME], [pizza(2)], code="bienvenue") == []


# Properties

CATEGORIES = ["pizza", "drink", "dessert"]
SIZES = ["Petite", "Moyenne", "Grande"]
RATES = [D("5.50"), FOOD, ALCOHOL]

cents = st.integers(min_value=1, max_value=5_000).map(lambda c: D(c) / 100)
items_strategy = st.lists(
    st.builds(
        BasketItem,
        product_id=st.integers(1, 6),
        category=st.sampled_from(CATEGORIES),
        size_name=st.sampled_from(SIZES),
        quantity=st.integers(1, 12),
        unit_price=cents,
        vat_rate=st.sampled_from(RATES),
    ),
    max_size=8,
)
targets = st.one_of(
    st.fixed_dictionaries({"target_category": st.sampled_from(["", "basket", *CATEGORIES])}),
    st.fixed_dictionaries({"target_product_id": st.integers(1, 6)}),
)


@st.composite
def rules_strategy(draw):
    kind = draw(st.sampled_from(["free_product", "percent_off", "amount_off"]))
    fields = draw(targets)
    if kind == "percent_off":
        fields["percent"] = D(draw(st.integers(1, 10_000))) / 100
    if kind == "amount_off":
        fields["amount"] = draw(cents.map(lambda a: a * 3))
    return PromotionRule(
        promotion_id=draw(st.integers(1, 1000)),
        title="Promotion",
        kind=kind,
        code=draw(st.sampled_from(["", "", "CODE"])),
        min_quantity=draw(st.integers(0, 4)),
        condition_category=draw(st.sampled_from(["", *CATEGORIES])),
        condition_size=draw(st.sampled_from(["", "", "grande"])),
        min_subtotal=draw(st.one_of(st.none(), cents)),
        **fields,
    )


def subtotal(items, rate=None):
    return sum((money(i.unit_price * i.quantity) for i in items if rate is None or i.vat_rate == rate), D(0))


@settings(max_examples=300, deadline=None)
@given(rules=st.lists(rules_strategy(), max_size=5), items=items_strategy, code=st.sampled_from(["", "code"]))
def test_discounts_are_positive_cents_and_never_exceed_the_basket_rate_by_rate(rules, items, code):
    discounts = apply_rules(rules, items, code=code)

    assert all(d.amount > 0 and d.amount == money(d.amount) for d in discounts)
    assert total(discounts) <= subtotal(items)
    for rate in RATES:
        assert total(d for d in discounts if d.vat_rate == rate) <= subtotal(items, rate)


@settings(max_examples=300, deadline=None)
@given(items=items_strategy, percent=st.integers(1, 10_000).map(lambda p: D(p) / 100))
def test_percent_off_the_basket_splits_exactly_and_proportionally(items, percent):
    rule = PromotionRule(1, "Remise", "percent_off", target_category="basket", percent=percent)
    whole = subtotal(items)

    discounts = apply_rules([rule], items)

    assert total(discounts) == money(whole * percent / 100)
    for d in discounts:
        exact_share = money(whole * percent / 100) * subtotal(items, d.vat_rate) / whole
        assert abs(d.amount - exact_share) < D("0.01")
    assert len({d.vat_rate for d in discounts}) == len(discounts)


@settings(max_examples=300, deadline=None)
@given(items=items_strategy, amount=cents.map(lambda a: a * 4))
def test_amount_off_the_basket_is_the_amount_or_the_whole_basket(items, amount):
    rule = PromotionRule(1, "Remise", "amount_off", target_category="basket", amount=amount)

    assert total(apply_rules([rule], items)) == min(amount, subtotal(items))


@settings(max_examples=300, deadline=None)
@given(
    pizzas=st.lists(cents, max_size=10),
    desserts=st.lists(cents, max_size=6),
    min_quantity=st.integers(1, 4),
)
def test_free_desserts_are_the_cheapest_one_per_group_of_pizzas(pizzas, desserts, min_quantity):
    rule = PromotionRule(1, "Dessert", "free_product", min_quantity=min_quantity, condition_category="pizza",
                         target_category="dessert")  # fmt: skip
    items = [pizza(1, price=str(p), product_id=i) for i, p in enumerate(pizzas)]
    items += [dessert(1, price=str(p), product_id=100 + i) for i, p in enumerate(desserts)]

    free = min(len(desserts), len(pizzas) // min_quantity)

    assert total(apply_rules([rule], items)) == sum(sorted(desserts)[:free], D(0))


@settings(max_examples=300, deadline=None)
@given(pizzas=st.lists(cents, max_size=12), min_quantity=st.integers(1, 4))
def test_nth_pizza_free_needs_its_paid_pizzas_besides_the_free_one(pizzas, min_quantity):
    rule = PromotionRule(1, "Pizza", "free_product", min_quantity=min_quantity, condition_category="pizza",
                         target_category="pizza")  # fmt: skip
    items = [pizza(1, price=str(p), product_id=i) for i, p in enumerate(pizzas)]

    free = len(pizzas) // (min_quantity + 1)

    assert total(apply_rules([rule], items)) == sum(sorted(pizzas)[:free], D(0))

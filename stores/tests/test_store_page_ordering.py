"""The public store page: hours after midnight, ordering terms and exceptional closures."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from stores.models import OpeningHours, StoreClosure, StoreOrderingSettings, StorePage

from .factories import StorePageFactory


def page_html(client, store):
    response = client.get(store.url, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    return response.content.decode()


def test_hours_ending_after_midnight_are_accepted_and_shown(client, store_index):
    slot = OpeningHours(weekday=4, opens=datetime.time(18), closes=datetime.time(1))
    slot.clean()  # no error: it closes the next day
    store = StorePageFactory(parent=store_index, hours=[(4, "18:00", "01:00"), (5, "11:30", "14:30")])

    html = page_html(client, store)

    assert "<td>18:00 – 01:00 <small>(le lendemain)</small></td>" in html
    assert "<td>11:30 – 14:30</td>" in html


def test_a_slot_closing_when_it_opens_is_refused(store_index):
    store = StorePageFactory(parent=store_index, hours=[(0, "11:00", "12:00")])
    slot = OpeningHours(store=store, weekday=4, opens=datetime.time(18), closes=datetime.time(18))

    with pytest.raises(ValidationError) as error:
        slot.clean()
    assert error.value.message_dict == {"closes": ["La fermeture doit être différente de l'ouverture."]}
    with pytest.raises(IntegrityError), transaction.atomic():
        slot.save()


def test_the_page_shows_the_delivery_terms_and_payments(client, store_index):
    store = StorePageFactory(parent=store_index)
    StoreOrderingSettings.objects.create(
        store=store,
        order_prefix="TST",
        minimum_order=Decimal("15.00"),
        delivery_fee=Decimal("2.50"),
        free_delivery_from=Decimal("30.00"),
        accepted_payments=["cash", "meal_voucher"],
        online_payment=True,
    )

    html = page_html(client, store)

    assert "minimum de commande 15,00\u00a0€" in html
    assert "frais de livraison 2,50\u00a0€ (offerts dès 30,00\u00a0€ de commande)" in html
    assert "carte bancaire en ligne, à la livraison ou au retrait : espèces, titres-restaurant." in html
    assert "prête en 20 minutes environ" in html


def test_a_store_without_settings_shows_the_defaults(client, store_index):
    store = StorePageFactory(parent=store_index)

    html = page_html(client, store)

    assert "livraison gratuite" in html
    assert "espèces, carte bancaire (terminal), titres-restaurant, chèque" in html


def test_a_store_not_taking_orders_says_so(client, store_index):
    store = StorePageFactory(parent=store_index)
    StoreOrderingSettings.objects.create(store=store, order_prefix="TST", accepts_orders=False)

    html = page_html(client, store)

    assert "ne prend pas de commande en ligne pour le moment" in html
    assert "minimum de commande" not in html


def test_the_current_or_next_closure_is_announced(client, store_index):
    store = StorePageFactory(parent=store_index)
    today = timezone.localdate()
    StoreClosure.objects.create(
        store=store,
        starts_on=today - datetime.timedelta(days=10),
        ends_on=today - datetime.timedelta(days=1),
        message="Ancienne fermeture",
    )
    StoreClosure.objects.create(
        store=store,
        starts_on=datetime.date(2099, 12, 24),
        ends_on=datetime.date(2099, 12, 26),
        message="Joyeux Noël !",
    )

    html = page_html(client, store)

    assert (
        "Fermeture exceptionnelle du jeudi 24 décembre 2099 au samedi 26 décembre 2099 inclus. Joyeux Noël !"
        in html
    )
    assert "Ancienne fermeture" not in html


def test_a_closure_today_closes_the_store(client, store_index):
    store = StorePageFactory(parent=store_index)  # open every day 11:00–23:00
    today = timezone.localdate()
    StoreClosure.objects.create(store=store, starts_on=today, ends_on=today, message="Inventaire annuel")

    html = page_html(client, store)

    assert "Fermeture exceptionnelle le" in html and "Inventaire annuel" in html
    assert "Fermé pour le moment" in html
    noon = datetime.datetime.combine(today, datetime.time(12), tzinfo=timezone.get_current_timezone())
    assert not store.is_open(now=noon)
    assert store.is_open(now=noon + datetime.timedelta(days=1))


def test_store_listing_reads_closures_in_one_query(client, store_index, django_assert_max_num_queries):
    for _number in range(2):
        store = StorePageFactory(parent=store_index)
        StoreClosure.objects.create(
            store=store, starts_on=timezone.localdate(), ends_on=timezone.localdate(), message="x"
        )
    client.get(store_index.url)
    with django_assert_max_num_queries(100) as few:
        client.get(store_index.url)
    baseline = len(few.captured_queries)
    for _number in range(4):
        store = StorePageFactory(parent=store_index)
        StoreClosure.objects.create(
            store=store, starts_on=timezone.localdate(), ends_on=timezone.localdate(), message="x"
        )

    with django_assert_max_num_queries(baseline):
        html = client.get(store_index.url).content.decode()

    assert html.count("Fermé pour le moment") == 6


def edit_hours(client, store, slots):
    data = nested_form_data(
        {
            **{field: getattr(store, field) for field in ["title", "slug", "street_address", "postcode"]},
            **{field: getattr(store, field) for field in ["city", "phone", "latitude", "longitude"]},
            "delivery_postcodes": store.delivery_postcodes,
            "opening_hours": inline_formset(
                [{"weekday": weekday, "opens": opens, "closes": closes} for weekday, opens, closes in slots]
            ),
            "delivery_bands": inline_formset([]),
            "comments": inline_formset([]),
            "action-publish": "publish",
        }
    )
    return client.post(reverse("wagtailadmin_pages:edit", args=[store.id]), data)


def test_the_page_editor_accepts_hours_ending_after_midnight(client, head_office, store_index):
    store = StorePageFactory(parent=store_index)
    OpeningHours.objects.filter(store=store).delete()
    client.force_login(head_office)

    response = edit_hours(client, store, [(4, "18:00", "01:00"), (5, "18:00", "00:00")])

    assert response.status_code == 302
    saved = sorted(StorePage.objects.get(id=store.id).opening_hours.values_list("weekday", "opens", "closes"))
    assert saved == [(4, datetime.time(18), datetime.time(1)), (5, datetime.time(18), datetime.time(0))]


def test_the_page_editor_refuses_a_slot_closing_when_it_opens(client, head_office, store_index):
    store = StorePageFactory(parent=store_index)
    OpeningHours.objects.filter(store=store).delete()
    client.force_login(head_office)

    response = edit_hours(client, store, [(4, "18:00", "18:00")])

    assert response.status_code == 200
    assert "La fermeture doit être différente de l&#x27;ouverture." in response.content.decode()
    assert not StorePage.objects.get(id=store.id).opening_hours.exists()

"""Menu cards drawn once per content (menu/cards.py): a kept card is the card drawn afresh, its
form carries each visitor's own CSRF token and address, and any change to what a card shows
draws it again."""

import re
from decimal import Decimal

import pytest
from django.test import Client

from menu.cards import CardCache, cards
from menu.models import ProductSize
from stores.services import record_waste, withdraw_product

from .pages import card_of, store_menu

CARD = "includes/product_card.html"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


def drawn(response):
    return [template.name for template in response.templates].count(CARD)


def test_a_kept_card_is_the_card_drawn_afresh(client, menu_page, shop, settings):
    url = store_menu(menu_page) + "?vu=1&x=%22%3E"
    settings.DEBUG = True  # cards are not kept under DEBUG: the template alone draws them
    fresh = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    settings.DEBUG = False
    client.get(url, HTTP_ACCEPT_LANGUAGE="fr")

    kept = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")

    assert (fresh.status_code, kept.status_code) == (200, 200)
    assert (drawn(fresh), drawn(kept), len(cards)) == (2, 0, 2)
    assert TOKEN.sub("", kept.content.decode()) == TOKEN.sub("", fresh.content.decode())
    margherita = card_of(kept.content.decode(), "margherita")
    assert ">Margherita</a></h3>" in margherita
    assert '<option value="' in margherita and "Grande — 13,00\u00a0€</option>" in margherita


def test_a_kept_card_s_form_carries_this_visitor_s_token_and_address(menu_page, shop, vaise):
    Client().get(store_menu(menu_page) + "?from=another", HTTP_ACCEPT_LANGUAGE="fr")
    visitor = Client(enforce_csrf_checks=True)

    response = visitor.get(store_menu(menu_page) + "?from=me&x=1", HTTP_ACCEPT_LANGUAGE="fr")

    assert drawn(response) == 0
    card = card_of(response.content.decode(), "margherita")
    assert f'name="next" value="{store_menu(menu_page)}?from=me&amp;x=1"' in card
    token = TOKEN.search(card).group(1)
    size = shop.sizes.get(name="Petite")
    added = visitor.post(
        "/panier/ajouter/",
        {"store": vaise.id, "size": size.id, "quantity": 1, "csrfmiddlewaretoken": token},
        HTTP_ACCEPT="application/json",
    )
    assert added.status_code == 200
    assert added.json()["ok"] is True


def lower_price(shop, vaise, cheese):
    ProductSize.objects.filter(product=shop, name="Grande").update(price=Decimal("11.50"))
    return "Grande — 11,50\u00a0€"


def rename(shop, vaise, cheese):
    shop.title = "Margherita royale"
    shop.save()
    return ">Margherita royale</a></h3>"


def waste_the_cheese(shop, vaise, cheese):
    record_waste(store=vaise, lines=[(cheese, 950)], user=None)  # 50 g left: no Margherita
    return "Plus de mozzarella"


def withdraw(shop, vaise, cheese):
    withdraw_product(store=vaise, product=shop, user=None)
    return "Indisponible pour le moment dans cette pizzeria"


@pytest.mark.parametrize("change", [lower_price, rename, waste_the_cheese, withdraw])
def test_a_change_to_what_a_card_shows_draws_it_again(client, menu_page, shop, vaise, cheese, change):
    url = store_menu(menu_page)
    client.get(url, HTTP_ACCEPT_LANGUAGE="fr")

    shown = change(shop, vaise, cheese)
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert drawn(response) == 1  # the Margherita's card; the Focaccia's is kept
    assert shown in card_of(html, "margherita")


def test_a_card_is_drawn_again_in_another_language(client, menu_page, shop):
    client.get(store_menu(menu_page), HTTP_ACCEPT_LANGUAGE="fr")

    response = client.get(store_menu(menu_page), HTTP_ACCEPT_LANGUAGE="en")

    assert drawn(response) == 2
    assert "Grande — €13.00</option>" in card_of(response.content.decode(), "margherita")


def test_the_kept_cards_are_bounded_the_least_recently_used_dropped_first():
    kept = CardCache(size=2)
    kept.put("a", "A")
    kept.put("b", "B")
    assert kept.get("a") == "A"  # now the most recent

    kept.put("c", "C")

    assert (kept.get("a"), kept.get("b"), kept.get("c"), len(kept)) == ("A", None, "C", 2)


def test_a_new_focal_point_draws_the_card_with_its_new_crop(client, menu_page, shop, settings, tmp_path):
    from ocpizza.demo_images import product_image

    settings.MEDIA_ROOT = tmp_path
    shop.photo = product_image("Margherita", category="pizza")
    shop.save()
    first = client.get(store_menu(menu_page), HTTP_ACCEPT_LANGUAGE="fr")
    before = card_of(first.content.decode(), "margherita")

    photo = shop.photo
    photo.focal_point_x, photo.focal_point_y = 100, 100
    photo.focal_point_width, photo.focal_point_height = 50, 50
    photo.save()
    response = client.get(store_menu(menu_page), HTTP_ACCEPT_LANGUAGE="fr")

    after = card_of(response.content.decode(), "margherita")
    assert drawn(response) == 1
    crops = [re.findall(r'src="([^"]*fill-480x360[^"]*)"', card) for card in (before, after)]
    assert crops[0] and crops[1] and crops[0] != crops[1]


def test_renditions_made_again_draw_the_card_with_their_files(client, menu_page, shop, settings, tmp_path):
    from ocpizza.demo_images import product_image

    settings.MEDIA_ROOT = tmp_path
    shop.photo = product_image("Margherita", category="pizza")
    shop.save()
    client.get(store_menu(menu_page), HTTP_ACCEPT_LANGUAGE="fr")
    for rendition in shop.photo.renditions.all():  # as wagtail_update_image_renditions --purge-only
        rendition.file.delete(save=False)
        rendition.delete()

    response = client.get(store_menu(menu_page), HTTP_ACCEPT_LANGUAGE="fr")

    sources = re.findall(r'src="/media/([^"]*)"', card_of(response.content.decode(), "margherita"))
    assert drawn(response) == 1
    assert sources and all((tmp_path / source).exists() for source in sources)


def test_a_product_s_text_that_looks_like_the_form_s_fields_stays_text(client, menu_page, shop):
    shop.summary = 'name="next" value="/ailleurs/" name="csrfmiddlewaretoken" value="x"'
    shop.save()
    client.get(store_menu(menu_page), HTTP_ACCEPT_LANGUAGE="fr")

    response = client.get(store_menu(menu_page) + "?p=1", HTTP_ACCEPT_LANGUAGE="fr")

    card = card_of(response.content.decode(), "margherita")
    assert "<p>name=&quot;next&quot; value=&quot;/ailleurs/&quot; name=&quot;csrfmiddlewaretoken" in card
    assert f'name="next" value="{store_menu(menu_page)}?p=1"' in card

import pytest

from menu.tests.factories import product_with_recipe

from .factories import stock


def card_of(html, slug):
    start = html.index(f'data-product="{slug}"')
    return html[html.rindex("<li", 0, start) : html.index("</li>\n", html.index('class="prices"', start))]


def test_the_store_menu_greys_out_a_pizza_the_store_cannot_make(client, menu_page, vaise, dough, cheese):
    product_with_recipe(menu_page, title="Margherita", recipe={dough: 200, cheese: 100})
    product_with_recipe(menu_page, title="Focaccia", recipe={dough: 200})
    stock(vaise, {dough: 5000, cheese: 40})

    response = client.get(f"{menu_page.url}pizzeria/vaise/", HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    assert "La carte de OC Pizza Vaise" in html
    margherita = card_of(html, "margherita")
    assert "is-unavailable" in margherita.split(">")[0]
    assert "Épuisé" in margherita and "Plus de mozzarella" in margherita
    assert "is-unavailable" not in card_of(html, "focaccia").split(">")[0]


def test_a_store_with_enough_stock_shows_the_pizza_available(client, menu_page, bellecour, dough, cheese):
    product_with_recipe(menu_page, title="Margherita", recipe={dough: 200, cheese: 100})
    stock(bellecour, {dough: 5000, cheese: 5000})

    response = client.get(f"{menu_page.url}pizzeria/bellecour/", HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    assert "La carte de OC Pizza Bellecour" in html
    margherita = card_of(html, "margherita")
    assert ">Margherita</a></h3>" in margherita and "9,00\u00a0€" in margherita
    assert "is-unavailable" not in html and "Épuisé" not in html


def test_the_chain_menu_links_to_every_store_menu(client, menu_page, vaise, bellecour):
    html = client.get(menu_page.url).content.decode()

    assert f'href="{menu_page.url}pizzeria/vaise/"' in html
    assert f'href="{menu_page.url}pizzeria/bellecour/"' in html


def test_a_product_page_still_answers_under_the_menu(client, menu_page, dough):
    product = product_with_recipe(menu_page, title="Focaccia", recipe={dough: 200})

    response = client.get(product.url, HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Focaccia</h1>" in html
    assert '<td>Petite</td><td class="price">9,00\u00a0€</td>' in html
    assert "<p>Pâte</p>" in html


def test_an_unknown_store_menu_is_not_found(client, menu_page):
    response = client.get(f"{menu_page.url}pizzeria/atlantide/", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 404
    assert "Oups, cette page n’est pas au menu" in response.content.decode()


def test_the_store_page_links_to_its_menu(client, menu_page, vaise):
    html = client.get(vaise.url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert f'href="{menu_page.url}pizzeria/vaise/"' in html and "Voir la carte de cette pizzeria" in html


@pytest.mark.parametrize("count", [3, 30])
def test_the_store_menu_runs_a_bounded_number_of_queries(
    client, menu_page, vaise, dough, cheese, count, django_assert_max_num_queries
):
    for n in range(count):
        product_with_recipe(
            menu_page,
            title=f"Pizza {n}",
            recipe={dough: 200, cheese: 100},
            sizes=[("Petite", "9.00", "1.00")],
        )
    stock(vaise, {dough: 5000, cheese: 500})
    url = f"{menu_page.url}pizzeria/vaise/"
    client.get(url)  # warm the site and rendition caches

    with django_assert_max_num_queries(22):
        response = client.get(url)

    assert response.content.decode().count('class="card product-card') == count

import csv
import datetime
import io
import re
import secrets

import pytest
from django.utils import timezone

from menu.tests.factories import IngredientFactory, product_with_recipe
from stores.admin_views import count_started_token
from stores.models import StockLevel, StockMovement
from stores.services import consume_reservation, reserve_ingredients

from .factories import stock


def count_started(client, store):
    """The token the inventory form carries: where this count began."""
    form = client.get(f"/admin/stock/{store.id}/inventaire/").content.decode()
    return re.search(r'name="count_started" value="([^"]+)"', form).group(1)


def lines_data(*lines, **extra):
    """A delivery or waste form as the browser posts it, with a fresh submission token."""
    data = {
        "lines-TOTAL_FORMS": "8",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "submission": secrets.token_urlsafe(24),
        **extra,
    }
    for number, (ingredient, quantity) in enumerate(lines):
        data[f"lines-{number}-ingredient"] = str(ingredient)
        data[f"lines-{number}-quantity"] = str(quantity)
    return data


def test_a_manager_sees_the_stock_of_their_store_with_low_items_highlighted(
    client, manager, bellecour, cheese, dough
):
    stock(bellecour, {cheese: 100, dough: 5000}, thresholds={cheese: 500, dough: 1000})
    client.force_login(manager)

    response = client.get(f"/admin/stock/{bellecour.id}/", HTTP_ACCEPT_LANGUAGE="fr")

    html = response.content.decode()
    assert response.status_code == 200
    low_rows = [row for row in html.split("<tr") if "data-low" in row]
    assert len(low_rows) == 1 and "Mozzarella" in low_rows[0]


@pytest.mark.parametrize("suffix", ["", "livraison/", "inventaire/", "pertes/", "seuils/"])
def test_a_manager_of_store_a_gets_403_on_store_b(client, manager, vaise, suffix):
    client.force_login(manager)

    assert client.get(f"/admin/stock/{vaise.id}/{suffix}").status_code == 403


def test_a_manager_cannot_restock_another_store_and_nothing_is_written(client, manager, vaise, cheese):
    client.force_login(manager)

    response = client.post(f"/admin/stock/{vaise.id}/livraison/", lines_data((cheese.id, 1000)))

    assert response.status_code == 403
    assert not StockMovement.objects.exists()


def test_head_office_sees_every_store_and_the_group_view(client, head_office, bellecour, vaise, cheese):
    stock(vaise, {cheese: 10}, thresholds={cheese: 500})
    client.force_login(head_office)

    index = client.get("/admin/stock/").content.decode()
    group = client.get("/admin/stock/groupe/")

    assert "OC Pizza Bellecour" in index and "OC Pizza Vaise" in index
    assert group.status_code == 200
    assert group.content.decode().count("data-low") == 2  # Vaise's 10 g and Bellecour's nothing


def test_the_index_counts_low_items_as_the_store_screen_shows_them(
    client, head_office, bellecour, vaise, cheese, dough
):
    stock(bellecour, {cheese: 1000, dough: 10}, thresholds={cheese: 100, dough: 500})
    IngredientFactory(name="Basilic")  # never delivered: no level at all
    client.force_login(head_office)

    index = client.get("/admin/stock/").content.decode()
    store_screen = client.get(f"/admin/stock/{bellecour.id}/").content.decode()

    assert store_screen.count("data-low") == 2
    assert re.search(r"OC Pizza Bellecour</a></td><td class=\"num stock-low\">2<", index)
    assert re.search(r"OC Pizza Vaise</a></td><td class=\"num stock-low\">3<", index)  # nothing delivered


def test_a_manager_gets_403_on_the_group_view(client, manager):
    client.force_login(manager)

    assert client.get("/admin/stock/groupe/").status_code == 403


def test_marketing_gets_403_and_no_stock_menu(client, marketing, bellecour):
    client.force_login(marketing)

    assert client.get("/admin/stock/").status_code == 403
    assert client.get(f"/admin/stock/{bellecour.id}/").status_code == 403
    assert "/admin/stock/" not in client.get("/admin/").content.decode()


def test_a_manager_has_the_stock_menu(client, manager):
    client.force_login(manager)

    assert "/admin/stock/" in client.get("/admin/").content.decode()


def test_a_delivery_of_several_ingredients_is_recorded_at_once(client, manager, bellecour, cheese, dough):
    client.force_login(manager)

    response = client.post(
        f"/admin/stock/{bellecour.id}/livraison/",
        lines_data((cheese.id, 2000), (dough.id, 5000), supplier="Metro Lyon"),
    )

    assert response.status_code == 302
    assert dict(StockLevel.objects.values_list("ingredient__name", "on_hand")) == {
        "Mozzarella": 2000,
        "Pâte": 5000,
    }
    assert set(StockMovement.objects.values_list("kind", "user__email", "note")) == {
        ("restock", "romain@oc-pizza.fr", "Metro Lyon")
    }


@pytest.mark.parametrize(
    ("quantity", "message"),
    [("-3", "La quantité doit être positive."), ("beaucoup", "La quantité doit être un nombre entier.")],
)
def test_a_delivery_with_a_bad_quantity_is_refused_and_nothing_is_written(
    client, manager, bellecour, cheese, dough, quantity, message
):
    client.force_login(manager)

    response = client.post(
        f"/admin/stock/{bellecour.id}/livraison/",
        lines_data((dough.id, 5000), (cheese.id, quantity)),
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not StockMovement.objects.exists()


def test_a_delivery_of_an_unknown_ingredient_is_refused(client, manager, bellecour, cheese):
    client.force_login(manager)

    response = client.post(
        f"/admin/stock/{bellecour.id}/livraison/", lines_data((cheese.id, 100), (987654, 100))
    )

    assert response.status_code == 400
    assert "Ingrédient inconnu." in response.content.decode()
    assert not StockMovement.objects.exists()


def test_an_empty_delivery_is_refused(client, manager, bellecour):
    client.force_login(manager)

    response = client.post(f"/admin/stock/{bellecour.id}/livraison/", lines_data())

    assert response.status_code == 400
    assert "Saisissez au moins une ligne." in response.content.decode()


def test_waste_beyond_the_stock_is_refused_with_the_services_message(client, manager, bellecour, cheese):
    stock(bellecour, {cheese: 100})
    client.force_login(manager)

    response = client.post(f"/admin/stock/{bellecour.id}/pertes/", lines_data((cheese.id, 150)))

    assert response.status_code == 400
    assert "Il ne reste que 100 de mozzarella" in response.content.decode()
    assert StockLevel.objects.get().on_hand == 100


def test_an_inventory_count_records_the_differences(client, manager, bellecour, cheese, dough):
    stock(bellecour, {cheese: 1000, dough: 3000})
    client.force_login(manager)

    response = client.post(
        f"/admin/stock/{bellecour.id}/inventaire/",
        {
            f"field_{cheese.id}": "920",
            f"field_{dough.id}": "",
            "count_started": count_started(client, bellecour),
        },
    )

    assert response.status_code == 302
    correction = StockMovement.objects.get(kind="correction")
    assert (correction.ingredient, correction.on_hand_change, correction.on_hand_after) == (cheese, -80, 920)


def test_sales_made_while_the_count_was_being_entered_are_kept(client, manager, bellecour, cheese, menu_page):
    stock(bellecour, {cheese: 1000})
    client.force_login(manager)
    started = count_started(client, bellecour)
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100})
    # Sold and cooked during the count: 200 g left the shelf after it was counted.
    reserve_ingredients(store=bellecour, lines=[(pizza.sizes.get(), 2, [])], order_reference="S-1")
    consume_reservation(store=bellecour, order_reference="S-1")

    client.post(
        f"/admin/stock/{bellecour.id}/inventaire/",
        {f"field_{cheese.id}": "950", "count_started": started},
    )

    # 950 on the shelf when counted, 200 used since: 750 now, not 950.
    assert StockLevel.objects.get(ingredient=cheese).on_hand == 750
    assert StockMovement.objects.get(kind="correction").on_hand_change == -50


def test_a_negative_inventory_count_is_refused(client, manager, bellecour, cheese):
    stock(bellecour, {cheese: 1000})
    client.force_login(manager)

    response = client.post(
        f"/admin/stock/{bellecour.id}/inventaire/",
        {f"field_{cheese.id}": "-5", "count_started": count_started(client, bellecour)},
    )

    assert response.status_code == 400
    assert "La quantité ne peut pas être négative." in response.content.decode()
    assert StockLevel.objects.get().on_hand == 1000


def test_thresholds_are_set_per_ingredient(client, manager, bellecour, cheese):
    client.force_login(manager)

    client.post(f"/admin/stock/{bellecour.id}/seuils/", {f"field_{cheese.id}": "800"})

    assert StockLevel.objects.get(store=bellecour, ingredient=cheese).alert_threshold == 800


def test_the_movement_history_exports_the_filtered_movements_as_csv(
    client, manager, bellecour, vaise, cheese, dough
):
    stock(bellecour, {cheese: 1000, dough: 2000})
    stock(vaise, {cheese: 3000})
    client.force_login(manager)

    response = client.get("/admin/stock/mouvements/", {"ingredient": cheese.id, "format": "csv"})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0] == [
        "Date",
        "Point de vente",
        "Ingrédient",
        "Type",
        "Variation en rayon",
        "Variation réservée",
        "Unité",
        "En rayon après",
        "Réservé après",
        "Par",
        "Commande",
        "Note",
    ]
    assert [row[1:9] for row in rows[1:]] == [
        ["OC Pizza Bellecour", "Mozzarella", "livraison", "1000", "0", "grammes", "1000", "0"]
    ]


def test_the_csv_export_never_lets_a_spreadsheet_run_a_formula(client, manager, bellecour, cheese):
    client.force_login(manager)
    client.post(
        f"/admin/stock/{bellecour.id}/livraison/",
        lines_data((cheese.id, 500), supplier='=HYPERLINK("http://evil.example","x")'),
    )

    response = client.get("/admin/stock/mouvements/", {"format": "csv"})

    row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))[1]
    assert row[-1] == '\'=HYPERLINK("http://evil.example","x")'
    assert row[6] == "grammes"  # the unit as people read it


def test_an_invalid_filter_shows_its_error_and_exports_nothing(client, manager, bellecour, cheese):
    stock(bellecour, {cheese: 1000})
    client.force_login(manager)

    page = client.get("/admin/stock/mouvements/", {"date_from": "31/02/2026"})
    export = client.get("/admin/stock/mouvements/", {"date_from": "31/02/2026", "format": "csv"})

    assert "Aucun mouvement ne correspond à ces filtres." in page.content.decode()
    assert "stock-errors" in page.content.decode()
    assert export.status_code == 400


def test_the_movement_history_filters_by_kind(client, head_office, bellecour, cheese):
    stock(bellecour, {cheese: 1000})
    client.force_login(head_office)
    client.post(f"/admin/stock/{bellecour.id}/pertes/", lines_data((cheese.id, 30), reason="Brûlée"))

    html = client.get("/admin/stock/mouvements/", {"kind": "waste"}).content.decode()

    assert "Brûlée" in html and "Test" not in html  # the delivery's note is filtered out


def test_the_dashboard_shows_the_low_stock_alerts_of_the_managers_stores(
    client, manager, bellecour, cheese, django_capture_on_commit_callbacks
):
    stock(bellecour, {cheese: 1000}, thresholds={cheese: 900})
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/stock/{bellecour.id}/pertes/", lines_data((cheese.id, 200)))

    html = client.get("/admin/").content.decode()

    assert "Stock bas dans vos points de vente" in html and "Mozzarella" in html


def test_an_inventory_form_posted_three_times_gives_the_shelf_figure_once(client, manager, bellecour, cheese):
    stock(bellecour, {cheese: 50})
    client.force_login(manager)
    data = {f"field_{cheese.id}": "37", "count_started": count_started(client, bellecour)}

    responses = [client.post(f"/admin/stock/{bellecour.id}/inventaire/", data) for _press in range(3)]

    assert [response.status_code for response in responses] == [302, 302, 302]
    assert StockLevel.objects.get(store=bellecour, ingredient=cheese).on_hand == 37


def test_the_stock_screen_shows_on_hand_reserved_free_and_a_shortage(
    client, manager, bellecour, cheese, dough, menu_page
):
    pizza = product_with_recipe(menu_page, title="Margherita", recipe={cheese: 100, dough: 200})
    stock(bellecour, {cheese: 1000, dough: 1000})
    reserve_ingredients(store=bellecour, lines=[(pizza.sizes.get(), 3, [])], order_reference="T-1")
    StockLevel.objects.filter(store=bellecour, ingredient=dough).update(on_hand=500)  # a count found less
    client.force_login(manager)

    html = client.get(f"/admin/stock/{bellecour.id}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    table = html.split('class="listing stock-table"')[1]
    rows = {re.search(r"<td>([^<]+)", row).group(1): row for row in table.split("<tr")[2:]}
    cells = {name: re.findall(r'<td class="num">(-?\d+)</td>', row) for name, row in rows.items()}
    assert cells["Mozzarella"] == ["1000", "300", "700", "0"]
    assert cells["Pâte"] == ["500", "600", "-100", "0"]
    assert "data-shortage" in rows["Pâte"] and "data-shortage" not in rows["Mozzarella"]
    assert "Manque 100 grammes pour les commandes en cours" in rows["Pâte"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2147483648", "La quantité ne peut pas dépasser 1000000."),
        ("9" * 50, "La quantité ne peut pas dépasser 1000000."),
        ("²", "La quantité doit être un nombre entier."),
        ("١٢", "La quantité doit être un nombre entier."),
    ],
)
def test_a_huge_or_odd_delivery_is_refused_with_a_message(client, manager, bellecour, cheese, value, message):
    client.force_login(manager)

    response = client.post(
        f"/admin/stock/{bellecour.id}/livraison/", lines_data((cheese.id, value)), HTTP_ACCEPT_LANGUAGE="fr"
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize("screen", ["inventaire", "seuils"])
@pytest.mark.parametrize("value", ["2147483648", "9" * 50])
def test_a_huge_count_or_threshold_is_refused_with_a_message(
    client, manager, bellecour, cheese, screen, value
):
    stock(bellecour, {cheese: 100})
    client.force_login(manager)

    response = client.post(
        f"/admin/stock/{bellecour.id}/{screen}/",
        {f"field_{cheese.id}": value, "count_started": count_started(client, bellecour)},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert response.status_code == 400
    assert "La quantité ne peut pas dépasser 1000000." in response.content.decode()
    level = StockLevel.objects.get(store=bellecour, ingredient=cheese)
    assert (level.on_hand, level.alert_threshold) == (100, 0)


@pytest.mark.parametrize("tampering", ["²", "0", "", "signed for another store", "edited", "a day old"])
def test_an_inventory_with_a_tampered_or_stale_start_is_refused(
    client, manager, bellecour, vaise, cheese, tampering, time_machine
):
    stock(bellecour, {cheese: 100})
    client.force_login(manager)
    if tampering == "signed for another store":
        tampering = count_started_token(vaise)
    elif tampering == "edited":
        tampering = count_started(client, bellecour).replace(f"{bellecour.id}:", f"{bellecour.id}:0", 1)
    elif tampering == "a day old":
        time_machine.move_to(timezone.now() - datetime.timedelta(hours=13))
        tampering = count_started(client, bellecour)
        time_machine.move_to(timezone.now() + datetime.timedelta(hours=13))

    response = client.post(
        f"/admin/stock/{bellecour.id}/inventaire/",
        {f"field_{cheese.id}": "90", "count_started": tampering},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert response.status_code == 400
    assert (
        "Ce formulaire d&#x27;inventaire n&#x27;est plus valide : rechargez la page et recomptez."
        in response.content.decode()
    )
    assert StockLevel.objects.get(store=bellecour, ingredient=cheese).on_hand == 100


@pytest.mark.parametrize("product", ["²", "-1", "99999999999999999999999", ""])
def test_a_tampered_product_id_is_a_message_not_an_error(client, manager, bellecour, product):
    client.force_login(manager)

    response = client.post(
        f"/admin/stock/{bellecour.id}/produits/", {"product": product, "action": "withdraw"}
    )

    assert response.status_code == 302
    assert [m.message for m in response.wsgi_request._messages] == ["Produit inconnu."]


def submission_token(client, url):
    form = client.get(url).content.decode()
    return re.search(r'name="submission" value="([^"]+)"', form).group(1)


@pytest.mark.parametrize("screen", ["livraison", "pertes"])
def test_a_delivery_or_waste_form_posted_twice_is_recorded_once(client, manager, bellecour, cheese, screen):
    stock(bellecour, {cheese: 1000})
    client.force_login(manager)
    url = f"/admin/stock/{bellecour.id}/{screen}/"
    data = lines_data((cheese.id, 100), submission=submission_token(client, url))

    first = client.post(url, data)
    second = client.post(url, data, follow=True)  # a double click, or the back button and again

    assert first.status_code == 302
    assert (
        "Cette saisie était déjà enregistrée : elle n&#x27;est pas comptée deux fois."
        in second.content.decode()
    )
    expected = 1100 if screen == "livraison" else 900
    assert StockLevel.objects.get(store=bellecour, ingredient=cheese).on_hand == expected
    assert StockMovement.objects.filter(kind__in=["restock", "waste"]).exclude(note="Test").count() == 1


def test_a_refused_delivery_can_be_corrected_and_posted_with_the_same_form(
    client, manager, bellecour, cheese
):
    stock(bellecour, {cheese: 100})
    client.force_login(manager)
    url = f"/admin/stock/{bellecour.id}/pertes/"
    token = submission_token(client, url)

    refused = client.post(url, lines_data((cheese.id, 150), submission=token))
    corrected = client.post(url, lines_data((cheese.id, 50), submission=token))

    assert (refused.status_code, corrected.status_code) == (400, 302)
    assert StockLevel.objects.get(store=bellecour, ingredient=cheese).on_hand == 50


@pytest.mark.parametrize("token", ["", "short", "x" * 65, "<script>alert(1)</script>aaaaaaaa"])
def test_a_delivery_without_a_valid_form_token_is_refused(client, manager, bellecour, cheese, token):
    client.force_login(manager)

    response = client.post(
        f"/admin/stock/{bellecour.id}/livraison/", lines_data((cheese.id, 100), submission=token)
    )

    assert response.status_code == 400
    assert "Ce formulaire n&#x27;est plus valide : rechargez la page." in response.content.decode()
    assert not StockMovement.objects.exists()

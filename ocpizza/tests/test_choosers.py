import pytest


@pytest.mark.parametrize("model", ["menu/ingredient", "home/promotion"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_chooser_without_a_creation_form_answers_404_to_its_create_url(
    client, admin_user, home_page, model, method
):
    client.force_login(admin_user)

    response = getattr(client, method)(f"/admin/snippets/choose/{model}/create/", {})

    assert response.status_code == 404


def test_a_chooser_still_lists_its_items(client, admin_user, home_page):
    from menu.tests.factories import IngredientFactory

    IngredientFactory(name="Mozzarella")
    client.force_login(admin_user)

    response = client.get("/admin/snippets/choose/menu/ingredient/")

    assert response.status_code == 200
    assert "Mozzarella" in response.json()["html"]

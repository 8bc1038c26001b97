"""The staff screens, at /equipe/… (ordering.views.staff): one store's screen per URL."""

from django.urls import path

from .views import kitchen, staff

app_name = "staff"

urlpatterns = [
    path("", staff.staff_home, name="home"),
    path("<int:store_id>/cuisine/", kitchen.board, name="kitchen"),
    path("<int:store_id>/cuisine/tableau/", kitchen.board_fragment, name="kitchen_fragment"),
    path("<int:store_id>/cuisine/etat/", kitchen.board_status, name="kitchen_status"),
    path("<int:store_id>/cuisine/commande/<int:order_id>/", kitchen.order_action, name="kitchen_action"),
    path("<int:store_id>/cuisine/ligne/<int:line_id>/recette/", kitchen.recipe_card, name="kitchen_recipe"),
]

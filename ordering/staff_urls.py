"""The staff screens, at /equipe/… (ordering.views.staff): one store's screen per URL."""

from django.urls import path

from .views import delivery, kitchen, staff, taking

app_name = "staff"

urlpatterns = [
    path("", staff.staff_home, name="home"),
    # Order taking by phone and at the counter (ordering.views.taking).
    path("<int:store_id>/prise-de-commande/", taking.order_taking, name="order_taking"),
    path("<int:store_id>/prise-de-commande/<str:number>/", taking.order_taken, name="order_taken"),
    path("<int:store_id>/cuisine/", kitchen.board, name="kitchen"),
    path("<int:store_id>/cuisine/tableau/", kitchen.board_fragment, name="kitchen_fragment"),
    path("<int:store_id>/cuisine/etat/", kitchen.board_status, name="kitchen_status"),
    path("<int:store_id>/cuisine/commande/<int:order_id>/", kitchen.order_action, name="kitchen_action"),
    path("<int:store_id>/cuisine/ligne/<int:line_id>/recette/", kitchen.recipe_card, name="kitchen_recipe"),
    # The delivery board and the drivers' phone view (ordering.views.delivery).
    path("<int:store_id>/livraisons/", delivery.delivery_board, name="delivery"),
    path("<int:store_id>/livraisons/etat/", delivery.delivery_status, name="delivery_status"),
    path("<int:store_id>/livraisons/tableau/", delivery.delivery_fragment, name="delivery_fragment"),
    path("<int:store_id>/livraisons/moi/", delivery.my_deliveries, name="delivery_mine"),
    path("<int:store_id>/livraisons/livreur/<int:driver_id>/", delivery.driver_view, name="delivery_driver"),
    path(
        "<int:store_id>/livraisons/livreur/<int:driver_id>/suivi/",
        delivery.driver_fragment,
        name="delivery_driver_fragment",
    ),
    path(
        "<int:store_id>/livraisons/livreur/<int:driver_id>/depart/",
        delivery.send_out,
        name="delivery_send_out",
    ),
    path(
        "<int:store_id>/livraisons/commande/<int:order_id>/livreur/", delivery.assign, name="delivery_assign"
    ),
    path(
        "<int:store_id>/livraisons/commande/<int:order_id>/livree/", delivery.deliver, name="delivery_deliver"
    ),
    path(
        "<int:store_id>/livraisons/commande/<int:order_id>/retiree/",
        delivery.collect,
        name="delivery_collect",
    ),
]

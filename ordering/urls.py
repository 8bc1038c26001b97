from django.urls import include, path

from .views import cart, checkout, orders, webhooks

app_name = "ordering"

# Each order page answers at /commandes/<number>/… for its customer and at
# /commandes/<number>/<secret>/… for whoever holds a guest order's secret link.
order_pages = [
    path("", orders.order_detail, name="order_detail"),
    path("etat/", orders.order_status, name="order_status"),
    path("suivi/", orders.order_fragment, name="order_fragment"),
    path("modifier/", orders.order_change, name="order_change"),
    path("annuler/", orders.order_cancel, name="order_cancel"),
    path("payer/", checkout.order_pay, name="order_pay"),
]
guest_order_pages = [
    path("", orders.order_detail, name="order_detail_guest"),
    path("etat/", orders.order_status, name="order_status_guest"),
    path("suivi/", orders.order_fragment, name="order_fragment_guest"),
    path("modifier/", orders.order_change, name="order_change_guest"),
    path("annuler/", orders.order_cancel, name="order_cancel_guest"),
    path("payer/", checkout.order_pay, name="order_pay_guest"),
]

urlpatterns = [
    path("panier/", cart.cart_page, name="cart"),
    path("panier/ajouter/", cart.cart_add, name="cart_add"),
    path("panier/ligne/<int:index>/", cart.cart_line, name="cart_line"),
    path("panier/pizzeria/", cart.cart_store, name="cart_store"),
    path("panier/code/", cart.cart_code, name="cart_code"),
    path("panier/commander/", checkout.checkout, name="checkout"),
    path("commandes/", orders.history, name="history"),
    path("commandes/<str:number>/recommander/", orders.reorder, name="reorder"),
    path("commandes/<str:number>/", include(order_pages)),
    path("commandes/<str:number>/<str:secret>/", include(guest_order_pages)),
    path("paiements/square/webhook/", webhooks.square_webhook, name="square_webhook"),
]

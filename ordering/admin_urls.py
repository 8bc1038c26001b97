from django.urls import path

from . import admin_views as views

app_name = "orders_admin"

urlpatterns = [
    path("", views.OrderListView.as_view(), name="index"),
    path("rapprochement/", views.ReconciliationView.as_view(), name="reconciliation"),
    path("<str:number>/", views.OrderDetailView.as_view(), name="detail"),
    path("<str:number>/rembourser/", views.RefundView.as_view(), name="refund"),
    path("<str:number>/encaisser/", views.RecordPaymentView.as_view(), name="record_payment"),
    path("<str:number>/annuler/", views.CancelView.as_view(), name="cancel"),
]

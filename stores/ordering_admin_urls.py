from django.urls import path

from . import ordering_admin_views as views

app_name = "store_ordering"

urlpatterns = [
    path("", views.OrderingIndexView.as_view(), name="index"),
    path("<int:store_id>/", views.StoreOrderingSettingsView.as_view(), name="store"),
    path("<int:store_id>/fermetures/ajouter/", views.ClosureCreateView.as_view(), name="closure_add"),
    path("<int:store_id>/fermetures/<int:closure_id>/", views.ClosureEditView.as_view(), name="closure_edit"),
    path(
        "<int:store_id>/fermetures/<int:closure_id>/supprimer/",
        views.ClosureDeleteView.as_view(),
        name="closure_delete",
    ),
]

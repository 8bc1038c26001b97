from django.urls import path

from . import admin_views

app_name = "stock"

urlpatterns = [
    path("", admin_views.StockIndexView.as_view(), name="index"),
    path("groupe/", admin_views.GroupStockView.as_view(), name="group"),
    path("ecarts/", admin_views.GroupFoodCostView.as_view(), name="group_food_cost"),
    path("mouvements/", admin_views.MovementsView.as_view(), name="movements"),
    path("<int:store_id>/", admin_views.StoreStockDetailView.as_view(), name="store"),
    path("<int:store_id>/livraison/", admin_views.RestockView.as_view(), name="restock"),
    path("<int:store_id>/inventaire/", admin_views.InventoryView.as_view(), name="inventory"),
    path("<int:store_id>/pertes/", admin_views.WasteView.as_view(), name="waste"),
    path("<int:store_id>/seuils/", admin_views.ThresholdsView.as_view(), name="thresholds"),
    path("<int:store_id>/ecarts/", admin_views.FoodCostView.as_view(), name="food_cost"),
    path("<int:store_id>/produits/", admin_views.ProductsView.as_view(), name="products"),
]

from django.urls import path

from . import views

app_name = "ordering"

urlpatterns = [path("", views.cart, name="cart")]

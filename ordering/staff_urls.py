"""The staff screens, at /equipe/… (ordering.views.staff): one store's screen per URL."""

from django.urls import path

from .views import staff

app_name = "staff"

urlpatterns = [
    path("", staff.staff_home, name="home"),
]

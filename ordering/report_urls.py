from django.urls import path

from . import report_views as views

app_name = "reports_admin"

urlpatterns = [
    path("", views.ReportView.as_view(), name="index"),
    path("csv/", views.ReportCsvView.as_view(), name="csv"),
]

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrderingConfig(AppConfig):
    name = "ordering"
    verbose_name = _("Commandes")

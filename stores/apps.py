from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = _("Points de vente")

    def ready(self):
        from menu.offers import register_store_menu_provider

        from .menu import StockStoreMenuProvider

        register_store_menu_provider(StockStoreMenuProvider())

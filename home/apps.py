from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    name = "home"
    verbose_name = _("Vitrine")

    def ready(self):
        from menu.promotions import register_rule_source

        from .models import current_promotion_rules

        register_rule_source(current_promotion_rules, with_request=True)

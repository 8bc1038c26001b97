from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OcpizzaConfig(AppConfig):
    name = "ocpizza"
    verbose_name = "OC Pizza"

    def ready(self):
        from .roles import sync_role_groups

        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="ocpizza_sync_role_groups")

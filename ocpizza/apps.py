from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OcpizzaConfig(AppConfig):
    name = "ocpizza"
    verbose_name = "OC Pizza"

    def ready(self):
        from .roles import sync_role_groups

        # No sender: this app has no models, so Django sends it no post_migrate of its own. Running
        # after every app's signal is idempotent, and the last run sees every app's permissions.
        post_migrate.connect(sync_role_groups, dispatch_uid="ocpizza_sync_role_groups")

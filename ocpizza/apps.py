from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OcpizzaConfig(AppConfig):
    name = "ocpizza"
    verbose_name = "OC Pizza"

    def ready(self):
        from .choosers import refuse_chooser_creation_without_a_form
        from .pagecache import connect_signals
        from .roles import sync_role_groups
        from .spreadsheets import escape_formulas_in_wagtail_exports

        escape_formulas_in_wagtail_exports()  # every CSV export of the admin (see the module)
        refuse_chooser_creation_without_a_form()  # a 404, not a 500 (see the module)
        connect_signals()  # the page cache forgets pages when what they show changes

        # Sent once per migrate for this app (it has a models module for that reason), and last,
        # since the app is last in INSTALLED_APPS: every other app's permissions exist by then.
        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="ocpizza_sync_role_groups")

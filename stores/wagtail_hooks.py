from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import StoreMembership


class StoreMembershipViewSet(SnippetViewSet):
    """Who works where (head office only: the permission is held by the Siège group)."""

    model = StoreMembership
    icon = "group"
    menu_label = _("Affectations")
    menu_order = 300
    add_to_admin_menu = True
    list_display = ["user", "store", "role"]
    list_filter = ["store", "role"]


register_snippet(StoreMembershipViewSet)

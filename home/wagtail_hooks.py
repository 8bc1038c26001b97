from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Promotion


class PromotionViewSet(SnippetViewSet):
    model = Promotion
    icon = "tag"
    menu_label = _("Promotions")
    menu_order = 200
    add_to_admin_menu = True
    list_display = ["title", "starts_at", "ends_at", "live"]
    list_export = ["title", "starts_at", "ends_at", "live"]  # CSV cells escaped: ocpizza/spreadsheets.py
    list_filter = ["live"]
    search_fields = ["title"]
    ordering = ["-starts_at"]


register_snippet(PromotionViewSet)

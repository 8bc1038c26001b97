from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Ingredient


class IngredientViewSet(SnippetViewSet):
    model = Ingredient
    icon = "pick"
    menu_label = _("Ingrédients")
    menu_order = 210
    add_to_admin_menu = True
    list_display = ["name", "unit"]
    list_filter = ["unit", "allergens"]
    search_fields = ["name"]


register_snippet(IngredientViewSet)

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format
from django.utils.translation import get_language

from menu.cards import render_card

register = template.Library()


@register.filter
def euros(value):
    """A price as customers read it: « 12,50 € » in French, « €12.50 » in English."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(value).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        return ""
    text = number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
    if (get_language() or "fr").startswith("en"):
        return f"€{text}"
    return f"{text}\u00a0€"


@register.simple_tag(takes_context=True)
def product_card(context, product, offer=None):
    """A product's menu card (`menu.cards`: drawn once per content, kept in this process)."""
    return render_card(context, product, offer)

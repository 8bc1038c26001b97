from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def cart(request):
    """The cart page. Online ordering (cart lines, checkout) is built by the ordering issue."""
    return render(request, "ordering/cart.html", {"lines": []})

"""Links every page's header and footer need, found once per request."""

from django.utils.functional import SimpleLazyObject


def _navigation(request):
    from wagtail.models import Site

    from menu.models import MenuPage
    from stores.models import StoreIndexPage

    from .models import StandardPage

    site = Site.find_for_request(request)
    root = site.root_page if site else None
    if root is None:
        return {"menu": None, "stores": None, "footer_pages": []}
    return {
        "home": root,
        "menu": MenuPage.objects.live().descendant_of(root).first(),
        "stores": StoreIndexPage.objects.live().descendant_of(root).first(),
        "footer_pages": list(
            StandardPage.objects.live().descendant_of(root).filter(show_in_footer=True).order_by("path")
        ),
    }


def site_navigation(request):
    return {"site_nav": SimpleLazyObject(lambda: _navigation(request))}

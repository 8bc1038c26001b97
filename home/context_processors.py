"""Links every page's header and footer need, found in a single query (once per content generation
in each process: `menu.catalogue`)."""

from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils.functional import SimpleLazyObject

from menu.catalogue import kept


def _navigation(request):
    from wagtail.models import Site

    site = Site.find_for_request(request)
    root = site.root_page if site else None
    if root is None:
        return {"menu": None, "stores": None, "footer_pages": []}
    return kept(request, ("navigation", site.pk, root.pk), lambda: _links(root))


def _links(root):
    from wagtail.models import Page

    # The menu, the store index and the footer's pages in one query, in the tree's order; plain
    # `Page` objects, which is all a link needs (title and URL).
    is_menu = Q(menupage__isnull=False)
    is_store_index = Q(storeindexpage__isnull=False)
    is_footer_page = Q(standardpage__show_in_footer=True)
    pages = list(
        Page.objects.live()
        .descendant_of(root)
        .filter(is_menu | is_store_index | is_footer_page)
        .annotate(
            is_menu=ExpressionWrapper(is_menu, output_field=BooleanField()),
            is_store_index=ExpressionWrapper(is_store_index, output_field=BooleanField()),
            is_footer_page=ExpressionWrapper(is_footer_page, output_field=BooleanField()),
        )
        .order_by("path")
    )
    return {
        "home": root,
        "menu": next((page for page in pages if page.is_menu), None),
        "stores": next((page for page in pages if page.is_store_index), None),
        "footer_pages": [page for page in pages if page.is_footer_page],
    }


def site_navigation(request):
    return {"site_nav": SimpleLazyObject(lambda: _navigation(request))}

"""The base of the staff screens (/equipe/…): order taking, the kitchen board, the delivery board.

They are pages of the site, not of the Wagtail admin: crew members (équipiers, pizzaiolos,
drivers) have no admin access, and a kitchen tablet or a driver's phone needs large, simple pages.
Each screen is about one store (`store_id` in its URL) and needs a permission (`ordering.access`):
a visitor who is not logged in is sent to the login page, anyone else without that screen in that
store gets a 403 page that says so, an unknown store a 404.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from stores.access import is_head_office
from stores.models import StoreMembership, StorePage

from ..access import DELIVERY_BOARD, KITCHEN_BOARD, SCREEN_ROLES, TAKE_ORDERS, screen_stores

# The screens in the order of the navigation: (permission, URL name, label). A screen's URL takes
# the store's id. URL names not registered yet (a screen still to come) are left out.
SCREENS = [
    (TAKE_ORDERS, "staff:order_taking", _("Prise de commande")),
    (KITCHEN_BOARD, "staff:kitchen", _("Cuisine")),
    (DELIVERY_BOARD, "staff:delivery", _("Livraisons")),
]


def forbidden(request, message=None):
    context = {"message": message or _("Vous n’avez pas accès à cet écran pour ce point de vente.")}
    return render(request, "ordering/staff/forbidden.html", context, status=403)


def screens_for(user, store_ids=None):
    """{store_id: [(url, label), …]}: the screens `user` may open, per store.

    The rule of `access.screen_stores` for every screen at once, in a constant number of queries
    whatever the number of screens (head office or not, the memberships, the permissions)."""
    screens = []
    for permission, url_name, label in SCREENS:
        try:
            reverse(url_name, args=[0])
        except NoReverseMatch:  # the screen is not built yet
            continue
        screens.append((permission, url_name, label))
    if not screens or not user.is_authenticated or not user.is_active:
        return {}
    if is_head_office(user):
        every = list(StorePage.objects.values_list("id", flat=True))
        stores_of = {permission: every for permission, _name, _label in screens}
    else:
        memberships = list(StoreMembership.objects.filter(user=user).values_list("store_id", "role"))
        stores_of = {
            permission: sorted({store for store, role in memberships if role in SCREEN_ROLES[permission]})
            for permission, _name, _label in screens
        }
    by_store = {}
    for permission, url_name, label in screens:
        if not user.has_perm(permission):
            continue
        for store_id in stores_of[permission]:
            if store_ids is None or store_id in store_ids:
                by_store.setdefault(store_id, []).append((reverse(url_name, args=[store_id]), label))
    return by_store


def staff_screen(permission):
    """Decorate a view `view(request, store, …)` of a staff screen reached at …/<store_id>/….

    The view runs only for a user who may open that screen in that store; it gets the store
    (the specific `StorePage`) and `request.staff_screens`, the navigation between the screens
    the user may open in that store.
    """

    def decorator(view):
        @wraps(view)
        @never_cache
        def wrapped(request, store_id, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            store = get_object_or_404(StorePage, id=store_id)
            if not screen_stores(request.user, permission).filter(id=store.id).exists():
                return forbidden(request)
            request.staff_screens = screens_for(request.user, {store.id}).get(store.id, [])
            return view(request, store.specific, *args, **kwargs)

        return wrapped

    return decorator


@never_cache
def staff_home(request):
    """/equipe/: the user's stores and, for each, the screens they may open there."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    by_store = screens_for(request.user)
    if not by_store:
        return forbidden(request, _("Votre compte n’a accès à aucun écran d’équipe."))
    stores = StorePage.objects.filter(id__in=by_store).order_by("title")
    context = {"stores": [(store, by_store[store.id]) for store in stores]}
    return render(request, "ordering/staff/home.html", context)

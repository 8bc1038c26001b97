"""Who may see which store: head office sees the whole group, staff only their own stores."""

from django.contrib.auth import get_user_model
from django.db.models import Q

from .models import StoreMembership, StorePage, StoreRole

HEAD_OFFICE_GROUP = "Siège"


def is_head_office(user):
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=HEAD_OFFICE_GROUP).exists()


def stores_for(user, *, roles=None):
    """The stores `user` may act on: all for head office, else those they are a member of.

    `roles` narrows memberships to some roles (for instance managers only).
    """
    if is_head_office(user):
        return StorePage.objects.all()
    if not user.is_authenticated or not user.is_active:
        return StorePage.objects.none()
    memberships = StoreMembership.objects.filter(user=user)
    if roles:
        memberships = memberships.filter(role__in=roles)
    return StorePage.objects.filter(id__in=memberships.values("store_id"))


def managed_stores(user):
    return stores_for(user, roles=[StoreRole.MANAGER])


VIEW_STOCK = "stores.view_stocklevel"
CHANGE_STOCK = "stores.change_stocklevel"


def stock_stores(user):
    """The stores whose stock `user` may see: all for head office, else the stores they manage.

    Needs the `stores.view_stocklevel` permission (Siège and store managers hold it; Marketing
    does not), so a member of staff without it sees no stock at all.
    """
    if not user.is_authenticated or not user.has_perm(VIEW_STOCK):
        return StorePage.objects.none()
    if is_head_office(user):
        return StorePage.objects.all()
    return managed_stores(user)


def staff_accounts():
    """Active accounts of people who work for OC Pizza, the only ones a store may employ.

    A staff account is active and either holds a role group (every group is a staff role: the
    groups of `ocpizza/roles.py` and Wagtail's editors; customers hold none), or carries Django's
    staff flag, or is a superuser. A customer account stays a customer even if a store
    membership was wrongly given to it.
    """
    users = get_user_model().objects.filter(is_active=True)
    return users.filter(Q(groups__isnull=False) | Q(is_staff=True) | Q(is_superuser=True)).distinct()


CHANGE_ORDERING_SETTINGS = "stores.change_storeorderingsettings"


def ordering_settings_stores(user):
    """The stores whose ordering settings and closures `user` may edit: all for head office,
    else the stores they manage. Needs `stores.change_storeorderingsettings` (Siège and store
    managers hold it; Marketing does not)."""
    if not user.is_authenticated or not user.has_perm(CHANGE_ORDERING_SETTINGS):
        return StorePage.objects.none()
    if is_head_office(user):
        return StorePage.objects.all()
    return managed_stores(user)

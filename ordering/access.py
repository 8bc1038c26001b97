"""Who may review which orders (head office every store's, a manager the stores they manage), and
who may open which staff screen of which store.

The permissions come from the role groups (`ocpizza.roles.ORDER_REVIEW_PERMISSIONS`); the stores
from the memberships (`stores.access`). Marketing and crew members review no order.
"""

from stores.access import is_head_office, managed_stores, stores_for
from stores.models import StorePage, StoreRole

VIEW_ORDERS = "ordering.view_order"
CHANGE_ORDERS = "ordering.change_order"  # cancel
MOVE_MONEY = "ordering.add_payment"  # refund, record a payment handed over


def order_stores(user):
    """The stores whose orders `user` may review (needs `ordering.view_order`)."""
    if not user.is_authenticated or not user.has_perm(VIEW_ORDERS):
        return StorePage.objects.none()
    if is_head_office(user):
        return StorePage.objects.all()
    return managed_stores(user)


def may_see_order(user, order, stores=None):
    """True if `order` belongs to one of `user`'s stores (an order whose store was deleted:
    head office only)."""
    if order.store_id is None:
        return is_head_office(user)
    stores = order_stores(user) if stores is None else stores
    return stores.filter(id=order.store_id).exists()


# The staff screens (/equipe/…): each needs its permission (from the role groups,
# `ocpizza.roles.CREW_SCREEN_PERMISSIONS`) and, in a store, a membership whose role opens it.
# A pizzaiolo of one store who drives for another opens the kitchen of the first only.
TAKE_ORDERS = "ordering.take_orders"
KITCHEN_BOARD = "ordering.use_kitchen_board"
DELIVERY_BOARD = "ordering.use_delivery_board"

SCREEN_ROLES = {
    TAKE_ORDERS: {StoreRole.MANAGER, StoreRole.STAFF},
    KITCHEN_BOARD: {StoreRole.MANAGER, StoreRole.STAFF, StoreRole.PIZZAIOLO},
    DELIVERY_BOARD: {StoreRole.MANAGER, StoreRole.STAFF, StoreRole.DRIVER},
}


def screen_stores(user, permission):
    """The stores whose staff screen `permission` (one of SCREEN_ROLES) `user` may open:
    every store for head office, else the stores where their role opens that screen."""
    if not user.is_authenticated or not user.is_active or not user.has_perm(permission):
        return StorePage.objects.none()
    if is_head_office(user):
        return StorePage.objects.all()
    return stores_for(user, roles=SCREEN_ROLES[permission])


def screen_open_condition(user, permission):
    """A condition (Q) on `StorePage` rows: true where `user` may open the staff screen
    `permission` — what `screen_stores` answers, in one expression, so that a poll checks access
    inside the query that reads its ETag (a 304 in at most 3 queries: session, user, that one)."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Exists, OuterRef, Q

    from stores.access import HEAD_OFFICE_GROUP
    from stores.models import StoreMembership

    if not user.is_authenticated or not user.is_active:
        return Q(pk__isnull=True)  # no row
    if user.is_superuser:
        return Q(pk__isnull=False)  # every row
    app_label, codename = permission.split(".")
    holds_permission = Exists(
        Permission.objects.filter(codename=codename, content_type__app_label=app_label).filter(
            Q(group__user=user) | Q(user=user)
        )
    )
    head_office = Exists(Group.objects.filter(name=HEAD_OFFICE_GROUP, user=user))
    member = Exists(
        StoreMembership.objects.filter(user=user, store=OuterRef("pk"), role__in=SCREEN_ROLES[permission])
    )
    return Q(holds_permission) & (Q(head_office) | Q(member))

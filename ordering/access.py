"""Who may review which orders (head office every store's, a manager the stores they manage), and
who may open which staff screen of which store.

The permissions come from the role groups (`ocpizza.roles.ORDER_REVIEW_PERMISSIONS`); the stores
from the memberships (`stores.access`). Marketing and crew members review no order.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import BooleanField, Exists, ExpressionWrapper, Q, Value

from stores.access import HEAD_OFFICE_GROUP, is_head_office, managed_stores, stores_for
from stores.models import StoreMembership, StorePage, StoreRole

from .models import Order

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


def reviewable_orders(stores, *, head_office):
    """The orders of `stores` (the user's `order_stores`); head office: every order, those of
    deleted stores too."""
    if head_office:
        return Order.objects.all()
    return Order.objects.filter(store__in=stores)


def screen_access(user, permission, store_id):
    """`screen_stores(user, permission)` contains `store_id`, as a boolean SQL expression.

    For the polls of the boards, which answer in one query besides the session and the user:
    annotate it on the query that computes the board's state (`ordering.boards`). Same rule as
    `screen_stores`: the permission (the user's or a group's), then head office or a membership
    whose role opens the screen in that store.
    """
    if not user.is_authenticated or not user.is_active:
        return Value(False)
    if user.is_superuser:
        return Value(True)
    app_label, codename = permission.split(".")
    permissions = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    holds = Exists(permissions.filter(Q(group__user=user) | Q(user=user)))
    head_office = Exists(Group.objects.filter(name=HEAD_OFFICE_GROUP, user=user))
    member = Exists(
        StoreMembership.objects.filter(user=user, store_id=store_id, role__in=SCREEN_ROLES[permission])
    )
    return ExpressionWrapper(Q(holds) & (Q(head_office) | Q(member)), output_field=BooleanField())


def screen_access_now(user, permission, store_id):
    """(the store exists, `user` may open its screen `permission`) in one plain SQL query: the
    rule of `screen_access`, for the polls of the boards whose ETag comes from the cache
    (`ordering.boards.board_state`). Written by hand: building and compiling the ORM's three
    subqueries cost more than the rest of such a poll put together."""
    params = [store_id]
    # Only quoted table and column names and placeholders go into the text; values are params.
    if not user.is_authenticated or not user.is_active:
        allowed = "FALSE"
    elif user.is_superuser:
        allowed = "TRUE"
    else:
        app_label, codename = permission.split(".")
        roles = sorted(SCREEN_ROLES[permission])
        allowed = (
            "EXISTS (SELECT 1 FROM {permission} p JOIN {content_type} ct ON ct.id = p.content_type_id"  # noqa: S608
            " WHERE ct.app_label = %s AND p.codename = %s AND ("
            "p.id IN (SELECT gp.{gp_permission} FROM {group_permissions} gp"
            " JOIN {user_groups} ug ON ug.{ug_group} = gp.{gp_group} WHERE ug.{ug_user} = %s)"
            " OR p.id IN (SELECT up.{up_permission} FROM {user_permissions} up WHERE up.{up_user} = %s)))"
            " AND (EXISTS (SELECT 1 FROM {group} g JOIN {user_groups} ug ON ug.{ug_group} = g.id"
            " WHERE ug.{ug_user} = %s AND g.name = %s)"
            " OR EXISTS (SELECT 1 FROM {membership} m WHERE m.{m_user} = %s AND m.{m_store} = %s"
            " AND m.{m_role} IN (" + ", ".join(["%s"] * len(roles)) + ")))"
        )
        params += [
            app_label,
            codename,
            user.pk,
            user.pk,
            user.pk,
            HEAD_OFFICE_GROUP,
            user.pk,
            store_id,
            *roles,
        ]
    found = "SELECT EXISTS (SELECT 1 FROM {store} WHERE {store_pk} = %s), "  # noqa: S608 (see above)
    sql = (found + "(" + allowed + ")").format(**_tables())
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        exists, may_open = cursor.fetchone()
    return bool(exists), bool(may_open)


@functools.cache
def _tables():
    """The quoted names of the tables and columns `screen_access_now` reads."""
    user_model = get_user_model()
    user_groups = user_model.groups.through._meta
    user_permissions = user_model.user_permissions.through._meta
    group_permissions = Group.permissions.through._meta
    user_field = user_model._meta.model_name
    q = connection.ops.quote_name
    return {
        "store": q(StorePage._meta.db_table),
        "store_pk": q(StorePage._meta.pk.column),
        "permission": q(Permission._meta.db_table),
        "content_type": q(ContentType._meta.db_table),
        "group": q(Group._meta.db_table),
        "user_groups": q(user_groups.db_table),
        "ug_user": q(user_groups.get_field(user_field).column),
        "ug_group": q(user_groups.get_field("group").column),
        "user_permissions": q(user_permissions.db_table),
        "up_user": q(user_permissions.get_field(user_field).column),
        "up_permission": q(user_permissions.get_field("permission").column),
        "group_permissions": q(group_permissions.db_table),
        "gp_group": q(group_permissions.get_field("group").column),
        "gp_permission": q(group_permissions.get_field("permission").column),
        "membership": q(StoreMembership._meta.db_table),
        "m_user": q(StoreMembership._meta.get_field("user").column),
        "m_store": q(StoreMembership._meta.get_field("store").column),
        "m_role": q(StoreMembership._meta.get_field("role").column),
    }

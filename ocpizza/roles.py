"""The staff roles as Django groups, with their permissions, kept in step after every migrate.

Each role lists the model permissions it holds; Marketing and Siège also get page and image
permissions on the whole tree. Running it twice changes nothing. Apps that add operational models
(stock, orders) or operational fields of pages (recipes, delivery, payment) add their permissions
to the roles that need them here, never to Marketing.
"""

from django.contrib.auth.models import Group, Permission

from ordering.access import DELIVERY_BOARD, KITCHEN_BOARD, TAKE_ORDERS
from stores.access import HEAD_OFFICE_GROUP

MARKETING = "Marketing"
HEAD_OFFICE = HEAD_OFFICE_GROUP
STORE_MANAGERS = "Responsables de point de vente"
STORE_STAFF = "Équipiers"
PIZZAIOLOS = "Pizzaiolos"
DRIVERS = "Livreurs"

ADMIN_ACCESS = "wagtailadmin.access_admin"

# What a page holds that drives the kitchens, the stock, deliveries and payments: the product's
# recipe, options, preparation, availability and recipe factors, the store's delivery postcodes
# and payment location. The editor shows these fields only to holders (menu.panels).
OPERATIONAL_PAGE_PERMISSIONS = ["menu.change_recipe", "stores.change_store_operations"]

# Stock screens and services (stores.access.stock_stores): Siège sees every store, managers theirs.
STOCK_PERMISSIONS = [
    "stores.view_stocklevel",
    "stores.change_stocklevel",
    "stores.view_stockmovement",
]

# Ordering settings and exceptional closures (stores.access.ordering_settings_stores): Siège
# edits every store's, managers their stores'.
ORDERING_SETTINGS_PERMISSIONS = [
    "stores.view_storeorderingsettings",
    "stores.add_storeorderingsettings",
    "stores.change_storeorderingsettings",
    "stores.view_storeclosure",
    "stores.add_storeclosure",
    "stores.change_storeclosure",
    "stores.delete_storeclosure",
]

# Orders in the admin (ordering.access.order_stores): Siège reviews every store's orders, managers
# their stores'; cancelling needs change_order, refunding and recording a payment add_payment.
ORDER_REVIEW_PERMISSIONS = [
    "ordering.view_order",
    "ordering.change_order",
    "ordering.view_payment",
    "ordering.add_payment",
]

# The staff screens (ordering.access.screen_stores): phone and counter orders, the kitchen board,
# the delivery board. The membership's role in a store says which of them opens there.
CREW_SCREEN_PERMISSIONS = [TAKE_ORDERS, KITCHEN_BOARD, DELIVERY_BOARD]

# Model permissions per role, as "app_label.codename".
ROLE_PERMISSIONS = {
    MARKETING: [
        ADMIN_ACCESS,
        "home.add_promotion",
        "home.change_promotion",
        "home.delete_promotion",
        "home.publish_promotion",
        "home.lock_promotion",
        "home.unlock_promotion",
        "menu.add_ingredient",
        "menu.change_ingredient",
        "menu.delete_ingredient",
        "home.change_brandsettings",
    ],
    HEAD_OFFICE: [
        ADMIN_ACCESS,
        # The ingredient's purchase price (food cost) is head office's; its editor needs this.
        "menu.change_ingredient",
        "stores.add_storemembership",
        "stores.change_storemembership",
        "stores.delete_storemembership",
        "stores.view_storemembership",
        *STOCK_PERMISSIONS,
        *ORDERING_SETTINGS_PERMISSIONS,
        *ORDER_REVIEW_PERMISSIONS,
        *OPERATIONAL_PAGE_PERMISSIONS,
        *CREW_SCREEN_PERMISSIONS,
    ],
    STORE_MANAGERS: [
        ADMIN_ACCESS,
        *STOCK_PERMISSIONS,
        *ORDERING_SETTINGS_PERMISSIONS,
        *ORDER_REVIEW_PERMISSIONS,
        *CREW_SCREEN_PERMISSIONS,
    ],
    STORE_STAFF: [TAKE_ORDERS, KITCHEN_BOARD, DELIVERY_BOARD],
    PIZZAIOLOS: [KITCHEN_BOARD],
    DRIVERS: [DELIVERY_BOARD],
}

# Page permissions on the whole tree, and image/document permissions on the root collection.
# Siège edits the same pages as Marketing for their operational fields (above), and chooses or
# uploads the photos of preparation steps.
MARKETING_PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"]
MARKETING_COLLECTION_PERMISSIONS = [
    "wagtailimages.add_image",
    "wagtailimages.change_image",
    "wagtailimages.choose_image",
    "wagtaildocs.add_document",
    "wagtaildocs.change_document",
    "wagtaildocs.choose_document",
]
HEAD_OFFICE_PAGE_PERMISSIONS = MARKETING_PAGE_PERMISSIONS
HEAD_OFFICE_COLLECTION_PERMISSIONS = ["wagtailimages.add_image", "wagtailimages.choose_image"]
TREE_PERMISSIONS = {
    MARKETING: (MARKETING_PAGE_PERMISSIONS, MARKETING_COLLECTION_PERMISSIONS),
    HEAD_OFFICE: (HEAD_OFFICE_PAGE_PERMISSIONS, HEAD_OFFICE_COLLECTION_PERMISSIONS),
}


def _permissions(names):
    found = []
    for name in names:
        app_label, codename = name.split(".")
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if permission is not None:  # models of apps not migrated yet are picked up on a later run
            found.append(permission)
    return found


def sync_role_groups(**kwargs):
    """Create the role groups and give each exactly its permissions (post_migrate handler)."""
    from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission, Page

    for name, permission_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(permission_names))

    root_page = Page.get_first_root_node()
    root_collection = Collection.get_first_root_node()
    for name, (page_permissions, collection_permissions) in TREE_PERMISSIONS.items():
        group = Group.objects.get(name=name)
        if root_page is not None:
            for permission in _permissions(f"wagtailcore.{c}" for c in page_permissions):
                GroupPagePermission.objects.get_or_create(group=group, page=root_page, permission=permission)
        if root_collection is not None:
            for permission in _permissions(collection_permissions):
                GroupCollectionPermission.objects.get_or_create(
                    group=group, collection=root_collection, permission=permission
                )

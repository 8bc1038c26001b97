from django.contrib.auth.models import Group

from ocpizza import roles


def perms(group_name):
    group = Group.objects.get(name=group_name)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_head_office_and_managers_hold_the_stock_permissions_after_migrate(db):
    assert set(roles.STOCK_PERMISSIONS) <= perms(roles.HEAD_OFFICE)
    assert set(roles.STOCK_PERMISSIONS) <= perms(roles.STORE_MANAGERS)


def test_marketing_holds_no_stock_permission(db):
    assert not perms(roles.MARKETING) & {"stores.view_stocklevel", "stores.change_stocklevel"}

"""Background work of the stores app: low-stock e-mails to the store's managers."""

from django.conf import settings
from django.core.mail import send_mail
from django.utils.translation import gettext as _
from django_tasks import task

from .access import staff_accounts
from .models import StockAlert, StoreMembership, StoreRole


@task()
def send_low_stock_alert(alert_id):
    """E-mail the store's managers (staff accounts only); returns how many people were written to."""
    alert = StockAlert.objects.select_related("store", "ingredient").get(id=alert_id)
    recipients = sorted(
        StoreMembership.objects.filter(store=alert.store, role=StoreRole.MANAGER, user__in=staff_accounts())
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not recipients:
        return 0
    ingredient = alert.ingredient
    subject = _("Stock bas : %(ingredient)s à %(store)s") % {
        "ingredient": ingredient.name,
        "store": alert.store.title,
    }
    body = _(
        "Bonjour,\n\nIl ne reste que %(quantity)s %(unit)s de %(ingredient)s disponibles à la vente à "
        "%(store)s (seuil d'alerte : %(threshold)s %(unit)s), une fois servies les commandes en cours.\n\n"
        "Pensez à commander une livraison.\n\n"
        "Le stock du point de vente : %(url)s\n"
    ) % {
        "quantity": alert.quantity,
        "unit": ingredient.get_unit_display(),
        "ingredient": ingredient.name,
        "store": alert.store.title,
        "threshold": alert.threshold,
        "url": f"{settings.WAGTAILADMIN_BASE_URL}/admin/stock/{alert.store_id}/",
    }
    send_mail(subject, body, None, recipients)
    return len(recipients)

# Movements written before reservations existed: a sale took from the shelf at once, a
# cancellation put it back. They become a consumption and a release with their on-hand change
# and no reserved change, so each level still equals the sum of its movements.

from django.db import migrations
from django.db.migrations.exceptions import IrreversibleError

RENAMED = {"sale": "consumption", "cancellation": "release"}


def forwards(apps, schema_editor):
    StockMovement = apps.get_model("stores", "StockMovement")
    for old, new in RENAMED.items():
        StockMovement.objects.filter(kind=old).update(kind=new)


def backwards(apps, schema_editor):
    StockMovement = apps.get_model("stores", "StockMovement")
    # Before 0005 a level had one quantity and every movement changed it: a reservation (a
    # movement that changes only what is reserved) has no equivalent there, and would stop the
    # schema step with an integrity error.
    if StockMovement.objects.exclude(reserved_change=0).exists():
        raise IrreversibleError(
            "Retour impossible avant stores 0006 : des commandes ont déjà réservé des ingrédients, "
            "et l'ancien stock n'avait pas de quantité réservée. Restaurez plutôt une sauvegarde."
        )
    for old, new in RENAMED.items():
        StockMovement.objects.filter(kind=new, reserved_change=0).update(kind=old)


class Migration(migrations.Migration):
    dependencies = [("stores", "0005_stock_on_hand_and_reserved")]

    operations = [migrations.RunPython(forwards, backwards)]

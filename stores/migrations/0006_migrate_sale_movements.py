# Movements written before reservations existed: a sale took from the shelf at once, a
# cancellation put it back. They become a consumption and a release with their on-hand change
# and no reserved change, so each level still equals the sum of its movements.

from django.db import migrations

RENAMED = {"sale": "consumption", "cancellation": "release"}


def forwards(apps, schema_editor):
    StockMovement = apps.get_model("stores", "StockMovement")
    for old, new in RENAMED.items():
        StockMovement.objects.filter(kind=old).update(kind=new)


def backwards(apps, schema_editor):
    StockMovement = apps.get_model("stores", "StockMovement")
    for old, new in RENAMED.items():
        StockMovement.objects.filter(kind=new, reserved_change=0).update(kind=old)


class Migration(migrations.Migration):
    dependencies = [("stores", "0005_stock_on_hand_and_reserved")]

    operations = [migrations.RunPython(forwards, backwards)]

# Two quantities per stock level: what is on the shelf and what open orders hold.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("menu", "0004_add_change_recipe_permission"),
        ("stores", "0004_add_product_withdrawal"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # Levels: today's quantity becomes on hand; nothing is reserved yet.
        migrations.RemoveConstraint(model_name="stocklevel", name="stores_stocklevel_quantity_not_negative"),
        migrations.RenameField(model_name="stocklevel", old_name="quantity", new_name="on_hand"),
        migrations.AlterField(
            model_name="stocklevel",
            name="on_hand",
            field=models.IntegerField(default=0, verbose_name="en rayon"),
        ),
        migrations.AddField(
            model_name="stocklevel",
            name="reserved",
            field=models.IntegerField(default=0, verbose_name="réservé"),
        ),
        migrations.AddField(
            model_name="stocklevel",
            name="threshold_set_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="seuil fixé le"),
        ),
        migrations.AddField(
            model_name="stocklevel",
            name="threshold_set_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="seuil fixé par",
            ),
        ),
        migrations.AlterField(
            model_name="stocklevel",
            name="alert_threshold",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Alerte quand la quantité disponible passe à ce niveau ou en dessous.",
                verbose_name="seuil d'alerte",
            ),
        ),
        migrations.AddConstraint(
            model_name="stocklevel",
            constraint=models.CheckConstraint(
                condition=models.Q(("on_hand__gte", 0)), name="stores_stocklevel_on_hand_not_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="stocklevel",
            constraint=models.CheckConstraint(
                condition=models.Q(("reserved__gte", 0)), name="stores_stocklevel_reserved_not_negative"
            ),
        ),
        # Movements: the signed quantity becomes the change of on hand; a change of reserved beside it.
        migrations.RemoveConstraint(
            model_name="stockmovement", name="stores_stockmovement_quantity_not_zero"
        ),
        migrations.RenameField(model_name="stockmovement", old_name="quantity", new_name="on_hand_change"),
        migrations.RenameField(model_name="stockmovement", old_name="level_after", new_name="on_hand_after"),
        migrations.AlterField(
            model_name="stockmovement",
            name="on_hand_change",
            field=models.IntegerField(default=0, verbose_name="variation en rayon"),
        ),
        migrations.AlterField(
            model_name="stockmovement",
            name="on_hand_after",
            field=models.IntegerField(verbose_name="en rayon après"),
        ),
        migrations.AddField(
            model_name="stockmovement",
            name="reserved_change",
            field=models.IntegerField(default=0, verbose_name="variation réservée"),
        ),
        migrations.AddField(
            model_name="stockmovement",
            name="reserved_after",
            field=models.IntegerField(default=0, verbose_name="réservé après"),
        ),
        migrations.AlterField(
            model_name="stockmovement",
            name="kind",
            field=models.CharField(
                choices=[
                    ("reservation", "réservation"),
                    ("release", "libération"),
                    ("consumption", "consommation"),
                    ("restock", "livraison"),
                    ("correction", "correction d'inventaire"),
                    ("waste", "perte"),
                ],
                max_length=12,
                verbose_name="type",
            ),
        ),
        migrations.AddConstraint(
            model_name="stockmovement",
            constraint=models.CheckConstraint(
                condition=models.Q(("on_hand_change", 0), ("reserved_change", 0), _negated=True),
                name="stores_stockmovement_changes_something",
            ),
        ),
        migrations.AlterField(
            model_name="stockalert",
            name="quantity",
            field=models.IntegerField(verbose_name="disponible au moment de l'alerte"),
        ),
        # Withdrawals: putting a product back on sale closes the row instead of deleting it.
        migrations.RemoveConstraint(model_name="productwithdrawal", name="stores_withdrawal_unique"),
        migrations.AddField(
            model_name="productwithdrawal",
            name="restored_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="remis en vente le"),
        ),
        migrations.AddField(
            model_name="productwithdrawal",
            name="restored_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="remis en vente par",
            ),
        ),
        migrations.AlterModelOptions(
            name="productwithdrawal",
            options={
                "ordering": ["-created_at", "-id"],
                "verbose_name": "produit retiré de la vente",
                "verbose_name_plural": "produits retirés de la vente",
            },
        ),
        migrations.AddConstraint(
            model_name="productwithdrawal",
            constraint=models.UniqueConstraint(
                condition=models.Q(("restored_at__isnull", True)),
                fields=("store", "product"),
                name="stores_withdrawal_one_open",
            ),
        ),
    ]

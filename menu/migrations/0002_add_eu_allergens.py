from django.db import migrations

# The 14 allergens of EU regulation 1169/2011, annex II, in the regulation's order.
CODES = [
    "gluten", "crustaceans", "eggs", "fish", "peanuts", "soybeans", "milk",
    "nuts", "celery", "mustard", "sesame", "sulphites", "lupin", "molluscs",
]


def add_allergens(apps, schema_editor):
    Allergen = apps.get_model("menu", "Allergen")
    for code in CODES:
        Allergen.objects.get_or_create(code=code)


def remove_allergens(apps, schema_editor):
    apps.get_model("menu", "Allergen").objects.filter(code__in=CODES).delete()


class Migration(migrations.Migration):
    dependencies = [("menu", "0001_initial")]

    operations = [migrations.RunPython(add_allergens, remove_allergens)]

"""Reading recipes: what one portion of a product in a size, with its extras, takes from the stock.

Quantities are whole numbers in the ingredient's unit (grams, millilitres, pieces). A size's
`recipe_factor` scales the reference recipe; the result is rounded half up to a whole unit, and
an ingredient the recipe uses never scales down to nothing.
"""

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.db import connection
from django.utils.translation import gettext as _
from wagtail.models import Page

from . import rows
from .models import Ingredient, ProductExtra, ProductPage, ProductSize, RecipeLine

SIZE_FIELDS = ("id", "sort_order", "product_id", "name", "price", "recipe_factor")
# What pricing, the stock check and an order's lines read of a product; the rest is deferred.
PRODUCT_FIELDS = (
    "id",
    "title",
    "slug",
    "live",
    "content_type_id",
    "page_ptr_id",
    "category",
    "is_available",
    "vat_rate",
)
RECIPE_FIELDS = ("id", "sort_order", "product_id", "ingredient_id", "quantity")
INGREDIENT_FIELDS = ("id", "name", "unit", "purchase_price")


def sizes_with_recipes(size_ids):
    """{id: ProductSize} of `size_ids`, each holding its product and the product's recipe lines
    with their ingredients (as `select_related("product")` with a prefetch of
    `product__recipe_lines__ingredient`), in one query written by hand.

    Every order and every quote of a cart asks: the ORM's select and prefetch took 2.8 ms to build
    what PostgreSQL answers in 0.5 (docs/performance.md). The product holds `PRODUCT_FIELDS`;
    its other fields are deferred (read on use, one query each). Sizes of one product share it.
    """
    size_ids = sorted(set(size_ids))
    if not size_ids:
        return {}
    pages = {Page: "p", ProductPage: "pp"}
    columns = ", ".join(
        (
            rows.select_list(ProductSize, SIZE_FIELDS, "s"),
            rows.select_list(ProductPage, PRODUCT_FIELDS, pages),
            rows.select_list(RecipeLine, RECIPE_FIELDS, "r"),
            rows.select_list(Ingredient, INGREDIENT_FIELDS, "i"),
        )
    )
    sizes_table, size_id, size_product = rows.names(ProductSize, "id", "product")
    pages_table, page_id = rows.names(Page, "id")
    products_table, page_ptr = rows.names(ProductPage, "page_ptr")
    recipes_table, recipe_product, recipe_ingredient = rows.names(RecipeLine, "product", "ingredient")
    ingredients_table, ingredient_id = rows.names(Ingredient, "id")
    # Names from the models' options, quoted; the ids are parameters.
    sql = (
        f"SELECT {columns} FROM {sizes_table} s "  # noqa: S608
        f"JOIN {pages_table} p ON p.{page_id} = s.{size_product} "
        f"JOIN {products_table} pp ON pp.{page_ptr} = s.{size_product} "
        f"LEFT JOIN {recipes_table} r ON r.{recipe_product} = s.{size_product} "
        f"LEFT JOIN {ingredients_table} i ON i.{ingredient_id} = r.{recipe_ingredient} "
        f"WHERE s.{size_id} IN ({', '.join(['%s'] * len(size_ids))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, size_ids)
        found = cursor.fetchall()
    widths = [len(SIZE_FIELDS), len(PRODUCT_FIELDS), len(RECIPE_FIELDS), len(INGREDIENT_FIELDS)]
    sizes, products, recipes = {}, {}, {}
    for row in found:
        start = 0
        parts = []
        for width in widths:
            parts.append(row[start : start + width])
            start += width
        size_row, product_row, recipe_row, ingredient_row = parts
        if size_row[0] not in sizes:
            product_id = product_row[0]
            if product_id not in products:
                products[product_id] = rows.instance(ProductPage, PRODUCT_FIELDS, product_row)
                recipes[product_id] = {}
            size = rows.instance(ProductSize, SIZE_FIELDS, size_row)
            ProductSize.product.field.set_cached_value(size, products[product_id])
            sizes[size.pk] = size
        recipe_id = recipe_row[0]
        if recipe_id is not None and recipe_id not in recipes[product_row[0]]:
            line = rows.instance(RecipeLine, RECIPE_FIELDS, recipe_row)
            RecipeLine.product.field.set_cached_value(line, products[product_row[0]])
            RecipeLine.ingredient.field.set_cached_value(
                line, rows.instance(Ingredient, INGREDIENT_FIELDS, ingredient_row)
            )
            recipes[product_row[0]][recipe_id] = line
    for product_id, product in products.items():
        lines = sorted(
            recipes[product_id].values(),
            key=lambda line: (line.sort_order is None, line.sort_order or 0, line.pk),
        )
        rows.prefetched(product, "recipe_lines", lines)
    return sizes


@lru_cache(maxsize=4096)
def scaled_quantity(quantity, factor):
    """`quantity` (reference size) scaled by a size's `factor`, as a whole number, at least 1."""
    scaled = (Decimal(quantity) * Decimal(factor)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(int(scaled), 1)


def ingredient_needs(size, extras=(), *, recipe_lines=None):
    """Quantity of each ingredient (a Counter keyed by ingredient id) for one portion.

    `size` is a ProductSize; `extras` ProductExtra rows of the same product. Uses the product's
    prefetched `recipe_lines` unless `recipe_lines` is given.
    """
    lines = size.product.recipe_lines.all() if recipe_lines is None else recipe_lines
    needs = Counter()
    for line in lines:
        needs[line.ingredient_id] += scaled_quantity(line.quantity, size.recipe_factor)
    return with_extras(needs, size, extras) if extras else needs


def with_extras(needs, size, extras):
    """`needs` of one portion of `size` changed by `extras`, as a new Counter.

    A removed ingredient drops out; an added one is scaled like the recipe and adds to what the
    recipe already uses.
    """
    needs = Counter(needs)
    for extra in extras:
        if extra.kind == ProductExtra.Kind.REMOVE:
            needs.pop(extra.ingredient_id, None)
    for extra in extras:
        if extra.kind == ProductExtra.Kind.ADD:
            needs[extra.ingredient_id] += scaled_quantity(extra.quantity, size.recipe_factor)
    return needs


def allergens_for(product, extras=()):
    """The product's allergens once `extras` are applied, each once, in the EU list's order.

    Uses the prefetches of `ProductPage.objects.with_recipes()`; without a recipe the product's
    `ingredients` list is used.
    """
    removed = {extra.ingredient_id for extra in extras if extra.kind == ProductExtra.Kind.REMOVE}
    lines = list(product.recipe_lines.all())
    ingredients = [line.ingredient for line in lines] if lines else list(product.ingredients.all())
    ingredients = [i for i in ingredients if i.id not in removed]
    ingredients += [extra.ingredient for extra in extras if extra.kind == ProductExtra.Kind.ADD]
    found = {a.id: a for ingredient in ingredients for a in ingredient.allergens.all()}
    return [found[key] for key in sorted(found)]


class UnknownLineError(ValueError):
    """An order line names a size or an option that does not exist (stale or tampered cart)."""


def needs_for_lines(lines):
    """Total needs of order lines: a Counter keyed by ingredient id, in a bounded number of queries.

    `lines` is an iterable of `(size, quantity, extras)`; `size` a ProductSize (or its id),
    `extras` ProductExtra rows (or ids) of the same product. Returns `(needs, resolved)` where
    `resolved` lists `(size, quantity, extras, needs_of_one_portion)` with loaded objects, for
    error messages. Raises UnknownLineError (with a message a customer can read) for a size or
    an option that does not exist, or an option of another product.
    """
    lines = [(size, quantity, list(extras or ())) for size, quantity, extras in lines]
    size_ids = {getattr(size, "pk", size) for size, _quantity, _extras in lines}
    extra_ids = {getattr(extra, "pk", extra) for _size, _quantity, extras in lines for extra in extras}
    # Sizes whose product and recipe are already loaded (a quote just read them) are not read again.
    sizes = {size.pk: size for size, _quantity, _extras in lines if _with_recipe(size)}
    if size_ids - sizes.keys():
        sizes.update(sizes_with_recipes(size_ids - sizes.keys()))
    extras_by_id = {
        extra.pk: extra
        for _size, _quantity, extras in lines
        for extra in extras
        if isinstance(extra, ProductExtra) and extra.pk is not None
    }
    if extra_ids - extras_by_id.keys():
        extras_by_id.update(
            (extra.id, extra)
            for extra in ProductExtra.objects.filter(id__in=extra_ids - extras_by_id.keys()).select_related(
                "ingredient"
            )
        )
    total = Counter()
    resolved = []
    for size, quantity, extras in lines:
        size = sizes.get(getattr(size, "pk", size))
        if size is None:
            raise UnknownLineError(_("Ce produit n'est plus à la carte."))
        chosen = [extras_by_id.get(getattr(extra, "pk", extra)) for extra in extras]
        if any(extra is None or extra.product_id != size.product_id for extra in chosen):
            raise UnknownLineError(
                _("Cette option n'existe pas pour %(product)s.") % {"product": size.product.title}
            )
        one = ingredient_needs(size, chosen)
        for ingredient_id, amount in one.items():
            total[ingredient_id] += amount * quantity
        resolved.append((size, quantity, chosen, one))
    return total, resolved


def _with_recipe(size):
    """Whether `size` is a saved ProductSize holding its product and the product's recipe lines."""
    return (
        isinstance(size, ProductSize)
        and size.pk is not None
        and ProductSize.product.is_cached(size)
        and "recipe_lines" in getattr(size.product, "_prefetched_objects_cache", {})
    )


def ingredient_names(ids):
    return dict(Ingredient.objects.filter(id__in=ids).values_list("id", "name"))

"""Model instances from hand-written SQL, as the ORM would have made them.

Placing an order reads a few small rows many times a second, and building each query with the ORM
cost more than running it (docs/performance.md, "an order's own CPU"). The hand-written reads use
these helpers so that what comes back is what a queryset gives:

- `names(model, *fields)`: the quoted table and columns; `for_update(what)`: the lock clause,
  refused outside a transaction (`require_transaction(what)`, also for a locking UPDATE);
- `select_list(model, names, alias)`: the quoted columns, in the model's field order;
- `instance(model, names, values)`: the instance made by `Model.from_db` (fields left out are
  deferred: reading one loads it, as after `.only()`), each value passed through the converters
  the database backend and the field apply (SQLite's times, dates and decimals come back as text);
- `value(model, name, raw)`: one column's value, converted the same way;
- `prefetched(instance, name, related)`: `related` stored as `instance.name.all()`, as
  `prefetch_related` stores it.
- `insert(objs)`: new rows written as `bulk_create` writes them (with `save()`'s signals on
  request), from a statement built once per model and number of rows.

Names come from the models' options and are quoted; values are always parameters.
"""

from django.db import connection, connections, transaction
from django.db.models.signals import post_save, pre_save
from django.db.transaction import TransactionManagementError


def names(model, *fields):
    """The quoted table of `model`, then the quoted column of each of its `fields`."""
    qn = connection.ops.quote_name
    return qn(model._meta.db_table), *(qn(model._meta.get_field(name).column) for name in fields)


def require_transaction(what):
    """Raise outside a transaction, as `select_for_update()` does: a lock taken there would hold
    nothing. `what` names the caller."""
    if not connection.in_atomic_block:
        raise TransactionManagementError(f"{what} must run inside a transaction.")


def for_update(what):
    """ " FOR UPDATE" to end a SELECT that locks its rows (nothing on SQLite, which has no row
    locks: the transaction's first write locks the database). Raises outside a transaction
    (`require_transaction`). `what` names the caller."""
    require_transaction(what)
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def ordered_names(model, names):
    """`names` (attribute names) in the order of the model's concrete fields, as `from_db` wants."""
    wanted = set(names)
    ordered = [field.attname for field in model._meta.concrete_fields if field.attname in wanted]
    if len(ordered) != len(wanted):
        unknown = wanted - set(ordered)
        raise ValueError(f"{model.__name__} has no concrete field {sorted(unknown)}")
    return ordered


def _field(model, attname):
    return next(field for field in model._meta.concrete_fields if field.attname == attname)


def select_list(model, names, alias):
    """`"alias"."column", …` for `names`, in the order of `ordered_names`. An inherited field
    (a Wagtail page's title) is read from the parent's table: `alias` is then a dict
    {model whose table holds the field: alias}."""
    qn = connection.ops.quote_name
    columns = []
    for attname in ordered_names(model, names):
        field = _field(model, attname)
        table_alias = alias if isinstance(alias, str) else alias[field.model]
        columns.append(f"{qn(table_alias)}.{qn(field.column)}")
    return ", ".join(columns)


def _plan(model, names):
    """The ordered names and each column's converters, worked out once per model and names for
    each connection (a thread's own: the converters are methods of its backend)."""
    wrapper = connections[connection.alias]  # this thread's (`connection` is a proxy to it)
    plans = wrapper.__dict__.setdefault("_ocpizza_row_plans", {})
    key = (model, tuple(names))
    plan = plans.get(key)
    if plan is None:
        ordered = ordered_names(model, names)
        converters = []
        for attname in ordered:
            column = _field(model, attname).get_col(model._meta.db_table)
            functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            converters.append((column, functions))
        plan = plans[key] = (ordered, converters)
    return plan


def instance(model, names, values):
    """The `model` instance of `values` (one per name of `names`, in `ordered_names` order)."""
    ordered, converters = _plan(model, names)
    converted = []
    for value, (column, functions) in zip(values, converters, strict=True):
        for function in functions:
            value = function(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, ordered, converted)


def value(model, attname, raw):
    """`raw`, read from the column of `model.attname`, as the ORM would give it."""
    _ordered, ((column, functions),) = _plan(model, (attname,))
    for function in functions:
        raw = function(raw, column, connection)
    return raw


def prefetched(owner, name, related):
    """Store the list `related` as `owner.<name>.all()` (a reverse foreign key, modelcluster's
    child relations included), as `prefetch_related(name)` would."""
    if not hasattr(owner, "_prefetched_objects_cache"):
        owner._prefetched_objects_cache = {}
    # A queryset of its own: one cached before may be shared with a copy of `owner` (with_hours).
    owner._prefetched_objects_cache.pop(name, None)
    queryset = getattr(owner, name).get_queryset()
    queryset._result_cache = list(related)
    queryset._prefetch_done = True
    owner._prefetched_objects_cache[name] = queryset


def _insert_plan(model, count):
    """The fields an INSERT of `count` new `model` rows writes and its SQL, worked out once per
    model and count for each connection."""
    wrapper = connections[connection.alias]
    plans = wrapper.__dict__.setdefault("_ocpizza_insert_plans", {})
    plan = plans.get((model, count))
    if plan is None:
        meta = model._meta
        fields = [
            field for field in meta.local_concrete_fields if field is not meta.pk and not field.generated
        ]
        qn = connection.ops.quote_name
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        # Names from the model's options, quoted; every value is a parameter.
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(field.column) for field in fields)}) "  # noqa: S608
            f"VALUES {', '.join([row] * count)} RETURNING {qn(meta.pk.column)}"
        )
        plan = plans[(model, count)] = (fields, sql)
    return plan


def insert(objs, *, signals=False):
    """Write `objs` (new instances of one model whose primary key is generated) in one INSERT and
    give each its primary key, as `bulk_create` does; with `signals`, `pre_save` and `post_save`
    are sent for each as `save()` sends them (`created=True`).

    Placing an order writes four kinds of rows while the store's placing lock is held, and the
    ORM built each statement again on every call (docs/performance.md). Only plain values are
    written (no expressions); each passes through its field's `pre_save` and `get_db_prep_save`,
    as the ORM passes it. An error marks the enclosing transaction for rollback, as `save()`
    does. Models inheriting another's table are refused. A database that cannot return the new
    keys (SQLite before 3.35) gets `save()` or `bulk_create` instead.
    """
    objs = list(objs)
    if not objs:
        return objs
    model = type(objs[0])
    meta = model._meta
    if meta.parents:
        raise NotImplementedError(f"insert(): {model.__name__} inherits another model's table")
    if any(type(obj) is not model or obj.pk is not None for obj in objs):
        raise ValueError(f"insert(): only new {model.__name__} instances")
    fields, sql = _insert_plan(model, len(objs))
    for obj in objs:  # before any signal, as save() checks
        obj._prepare_related_fields_for_save(operation_name="insert")
        for field in fields:
            if hasattr(getattr(obj, field.attname), "resolve_expression"):
                raise ValueError(f"insert(): {model.__name__}.{field.name} is an expression")
    if not connection.features.can_return_rows_from_bulk_insert:
        if signals:
            for obj in objs:
                obj.save(force_insert=True)
        else:
            model._default_manager.bulk_create(objs)
        return objs
    using = connection.alias
    if signals:
        for obj in objs:
            pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
    params = []
    for obj in objs:
        for field in fields:
            value = field.pre_save(obj, add=True)
            if hasattr(value, "resolve_expression"):  # set by a pre_save receiver
                raise ValueError(f"insert(): {model.__name__}.{field.name} is an expression")
            params.append(field.get_db_prep_save(value, connection))
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = [row[0] for row in cursor.fetchall()]
    for obj, key in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = using
    if signals:
        for obj in objs:
            post_save.send(
                sender=model,
                instance=obj,
                created=True,
                update_fields=None,
                raw=False,
                using=using,
            )
    return objs

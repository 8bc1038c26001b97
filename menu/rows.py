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
  request), from a statement built once per model and number of rows, with an UPDATE of other
  rows in the same round trip on request (`update=`, `execute(update)` alone);
- `insert_with_children(parent, *children, others=, update=)`: a new row, the new rows pointing
  at it, other new rows and an UPDATE, in one statement on PostgreSQL.

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
    wrapper = connections[connection.alias]  # the proxy resolves it again on each attribute read
    converted = []
    for value, (column, functions) in zip(values, converters, strict=True):
        for function in functions:
            value = function(value, column, wrapper)
        converted.append(value)
    return model.from_db(wrapper.alias, ordered, converted)


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


def _insert_fields(model):
    """The fields an INSERT of new `model` rows writes: all but the generated key and columns."""
    meta = model._meta
    return [field for field in meta.local_concrete_fields if field is not meta.pk and not field.generated]


def _insert_sql(model, rows_sql):
    """`INSERT INTO <table> (<columns>) VALUES <rows_sql> RETURNING <key>` for `_insert_fields`."""
    meta = model._meta
    qn = connection.ops.quote_name
    columns = ", ".join(qn(field.column) for field in _insert_fields(model))
    # Names from the model's options, quoted; every value is a parameter.
    return (
        f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES {rows_sql} "  # noqa: S608
        f"RETURNING {qn(meta.pk.column)}"
    )


def _plans(name):
    """This connection's cache of statements `name` (a thread's own, as its connection is)."""
    return connections[connection.alias].__dict__.setdefault(name, {})


def _insert_plan(model, count):
    """The fields an INSERT of `count` new `model` rows writes and its SQL, worked out once per
    model and count for each connection."""
    plans = _plans("_ocpizza_insert_plans")
    plan = plans.get((model, count))
    if plan is None:
        fields = _insert_fields(model)
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        plan = plans[(model, count)] = (fields, _insert_sql(model, ", ".join([row] * count)))
    return plan


def _check_new(objs, *, parent=None, parent_key=None):
    """The model of `objs`, refused unless they are new instances of one model with its own table
    whose fields hold plain values, their related rows saved (as `save()` checks), but for the
    foreign key `parent_key`, which must point at `parent` (written with it, `insert_with_children`)."""
    model = type(objs[0])
    meta = model._meta
    if meta.parents:
        raise NotImplementedError(f"insert(): {model.__name__} inherits another model's table")
    if any(type(obj) is not model or obj.pk is not None for obj in objs):
        raise ValueError(f"insert(): only new {model.__name__} instances")
    checked = None
    if parent_key is not None:
        every = [*meta.concrete_fields, *meta.private_fields]
        checked = {field for field in every if field != parent_key}
    fields = _insert_fields(model)
    for obj in objs:  # before any signal, as save() checks
        if parent_key is not None and getattr(obj, parent_key.name, None) is not parent:
            raise ValueError(f"insert(): {model.__name__}.{parent_key.name} is not the row written with it")
        obj._prepare_related_fields_for_save(operation_name="insert", fields=checked)
        for field in fields:
            if hasattr(getattr(obj, field.attname), "resolve_expression"):
                raise ValueError(f"insert(): {model.__name__}.{field.name} is an expression")
    return model


def _insert_params(objs, fields, *, skip=None):
    """Each object's value of each of `fields` but `skip`, as the ORM passes it to the database."""
    wrapper = connections[connection.alias]  # the proxy resolves it again on each attribute read
    params = []
    for obj in objs:
        for field in fields:
            if field is skip:
                continue
            value = field.pre_save(obj, add=True)
            if hasattr(value, "resolve_expression"):  # set by a pre_save receiver
                raise ValueError(f"insert(): {type(obj).__name__}.{field.name} is an expression")
            params.append(field.get_db_prep_save(value, wrapper))
    return params


def _saved(objs, keys, using):
    for obj, key in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = using


def _send_pre_save(objs, using):
    for obj in objs:
        pre_save.send(sender=type(obj), instance=obj, raw=False, using=using, update_fields=None)


def _send_post_save(objs, using):
    for obj in objs:
        post_save.send(
            sender=type(obj), instance=obj, created=True, update_fields=None, raw=False, using=using
        )


def insert(objs, *, signals=False, update=None):
    """Write `objs` (new instances of one model whose primary key is generated) in one INSERT and
    give each its primary key, as `bulk_create` does; with `signals`, `pre_save` and `post_save`
    are sent for each as `save()` sends them (`created=True`).

    `update`: `(expressions, statement, params)`, an UPDATE of other rows to make in the same round
    trip, with the common table expressions it uses (`name (columns) AS (VALUES …)`, or none) and
    their parameters then its own. On PostgreSQL it is one more expression of the INSERT's
    statement (it changes another table: both see the rows as they were before); elsewhere it runs
    first, on its own. Stock movements are written with the levels they changed this way.

    Placing an order writes four kinds of rows while the store's placing lock is held, and the
    ORM built each statement again on every call (docs/performance.md). Only plain values are
    written (no expressions); each passes through its field's `pre_save` and `get_db_prep_save`,
    as the ORM passes it. An error marks the enclosing transaction for rollback, as `save()`
    does. Models inheriting another's table are refused. A database that cannot return the new
    keys (SQLite before 3.35) gets `save()` or `bulk_create` instead.
    """
    objs = list(objs)
    if not objs:
        if update is not None:
            execute(update)
        return objs
    model = _check_new(objs)
    fields, sql = _insert_plan(model, len(objs))
    prefix = []
    if update is not None:
        if connection.vendor == "postgresql":
            expressions, prefix = _update_expressions(update)
            sql = f"WITH {', '.join(expressions)} {sql}"
        else:
            execute(update)
    if not connection.features.can_return_rows_from_bulk_insert:
        if signals:
            for obj in objs:
                obj.save(force_insert=True)
        else:
            model._default_manager.bulk_create(objs)
        return objs
    using = connection.alias
    if signals:
        _send_pre_save(objs, using)
    params = [*prefix, *_insert_params(objs, fields)]
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(sql, params)
        _saved(objs, [row[0] for row in cursor.fetchall()], using)
    if signals:
        _send_post_save(objs, using)
    return objs


def _update_expressions(update):
    """`update` (as `insert` takes it) as common table expressions to put first in a statement's
    WITH, and their parameters."""
    expressions, statement, params = update
    return [*expressions, f"ocpizza_update AS ({statement})"], list(params)


def execute(update):
    """Run `update` (`(expressions, statement, params)`, as `insert` takes it) on its own."""
    expressions, statement, params = update
    sql = f"WITH {', '.join(expressions)} {statement}" if expressions else statement
    with transaction.mark_for_rollback_on_error(connection.alias), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _parent_key(model, parent_model):
    """The foreign key of `model` to `parent_model`'s primary key (one, else ValueError)."""
    found = [
        field
        for field in model._meta.concrete_fields
        if field.many_to_one and field.related_model is parent_model and field.target_field.primary_key
    ]
    if len(found) != 1:
        raise ValueError(f"insert_with_children(): {model.__name__} needs one key to {parent_model.__name__}")
    return found[0]


FAMILY_PLANS_KEPT = 256  # statements of `insert_with_children` kept per connection


def _family_plan(parent_model, groups, other_groups):
    """The common table expressions writing one `parent_model` row, `groups` ((model, count) of
    its children) and `other_groups` ((model, count) of rows not pointing at it) at once, the
    SELECT of their new keys, and each child model's fields and key to the parent and each other
    model's fields: worked out once per shape."""
    plans = _plans("_ocpizza_family_plans")
    key = (parent_model, groups, other_groups)
    plan = plans.get(key)
    if plan is None:
        if len(plans) >= FAMILY_PLANS_KEPT:
            plans.clear()  # shapes are many (lines × discounts × movements): the commonest come back
        qn = connection.ops.quote_name
        parent_fields = _insert_fields(parent_model)
        parent_row = "(" + ", ".join(["%s"] * len(parent_fields)) + ")"
        ctes = [f"ocpizza_0 AS ({_insert_sql(parent_model, parent_row)})"]
        # Names from the models' options, quoted; every value is a parameter.
        selects = [f"SELECT 0, {qn(parent_model._meta.pk.column)} FROM ocpizza_0"]  # noqa: S608
        children = []
        for number, (model, count) in enumerate(groups, start=1):
            fields = _insert_fields(model)
            parent_key = _parent_key(model, parent_model)
            # The parent's new key, from the expression above that wrote it.
            own = f"(SELECT {qn(parent_model._meta.pk.column)} FROM ocpizza_0)"  # noqa: S608
            row = "(" + ", ".join(own if field is parent_key else "%s" for field in fields) + ")"
            ctes.append(f"ocpizza_{number} AS ({_insert_sql(model, ', '.join([row] * count))})")
            selects.append(f"SELECT {number}, {qn(model._meta.pk.column)} FROM ocpizza_{number}")  # noqa: S608
            children.append((fields, parent_key))
        others = []
        for number, (model, count) in enumerate(other_groups, start=len(groups) + 1):
            fields = _insert_fields(model)
            row = "(" + ", ".join(["%s"] * len(fields)) + ")"
            ctes.append(f"ocpizza_{number} AS ({_insert_sql(model, ', '.join([row] * count))})")
            selects.append(f"SELECT {number}, {qn(model._meta.pk.column)} FROM ocpizza_{number}")  # noqa: S608
            others.append(fields)
        plan = plans[key] = (parent_fields, children, others, ", ".join(ctes), " UNION ALL ".join(selects))
    return plan


def insert_with_children(parent, *children, signals=(), others=(), update=None):
    """Write the new instance `parent` and lists of new instances `children` (each list of one
    model, whose foreign key points at `parent`), as `insert` writes each, and give each row its
    key; `pre_save` and `post_save` are sent for the instances of the models in `signals`.

    `others`: lists of new instances (each of one model) that do not point at `parent`, written
    with it the same way; `update`: an UPDATE of other rows, as `insert` takes it. Placing an
    order writes its stock movements and the levels they change this way.

    On PostgreSQL this is one statement: each INSERT is a common table expression, the children's
    key to the parent is read from the parent's (placing an order writes the order, its lines, its
    event, its stock movements and the levels they change while the store's placing lock is held:
    one round trip instead of four); every `pre_save` is sent before it (a child's key to its
    parent is then still None) and every `post_save` after it, the parent's first. The UPDATE
    and the INSERTs see the rows as they were before the statement. Elsewhere, the UPDATE, then
    `insert` for the parent, for each list of children and for each list of others (each sending
    its signals), in one atomic block without a savepoint: an error marks the enclosing
    transaction for rollback, all or nothing there too.
    """
    children = [list(objs) for objs in children if objs]
    others = [list(objs) for objs in others if objs]
    parent_model = _check_new([parent])
    for objs in children:
        _check_new(objs, parent=parent, parent_key=_parent_key(type(objs[0]), parent_model))
    for objs in others:
        _check_new(objs)
    if connection.vendor != "postgresql":
        with transaction.atomic(using=connection.alias, savepoint=False):
            if update is not None:
                execute(update)
            insert([parent], signals=parent_model in signals)
            for objs in [*children, *others]:
                insert(objs, signals=type(objs[0]) in signals)
        return parent
    groups = tuple((type(objs[0]), len(objs)) for objs in children)
    other_groups = tuple((type(objs[0]), len(objs)) for objs in others)
    parent_fields, plans, other_plans, ctes, selects = _family_plan(parent_model, groups, other_groups)
    params = []
    if update is not None:
        expressions, params = _update_expressions(update)
        ctes = ", ".join([*expressions, ctes])
    using = connection.alias
    everything = [[parent], *children, *others]
    for objs in everything:
        if type(objs[0]) in signals:
            _send_pre_save(objs, using)
    params += _insert_params([parent], parent_fields)
    for objs, (fields, parent_key) in zip(children, plans, strict=True):
        params += _insert_params(objs, fields, skip=parent_key)
    for objs, fields in zip(others, other_plans, strict=True):
        params += _insert_params(objs, fields)
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cursor:
        cursor.execute(f"WITH {ctes} {selects}", params)
        keys = [[] for _objs in everything]
        for number, key in cursor.fetchall():
            keys[number].append(key)
    for number, objs in enumerate(everything):
        _saved(objs, keys[number], using)
    for objs, (_fields, parent_key) in zip(children, plans, strict=True):
        for obj in objs:
            setattr(obj, parent_key.name, parent)  # its key now, the instance kept (as save() does)
    for objs in everything:
        if type(objs[0]) in signals:
            _send_post_save(objs, using)
    return parent

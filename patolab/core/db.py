"""Small database helpers the ORM has no public spelling for."""

from __future__ import annotations

from typing import Any

from django.db import connections, models, router
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery


def insert_unless_conflict(obj: models.Model) -> bool:
    """INSERT `obj` unless a unique constraint (partial ones included) refuses
    it, in one statement (`ON CONFLICT DO NOTHING`; `INSERT OR IGNORE` on
    SQLite). True when the row was inserted; its auto primary key is set then.

    Why not `save()` in a savepoint and catch IntegrityError (or
    `get_or_create`): that costs a SAVEPOINT and a RELEASE, or a SELECT, BEGIN
    and COMMIT, on the common path where nothing conflicts; a refused INSERT
    here does not abort the caller's transaction either. Like `bulk_create`,
    no model signals are sent (use it for rows nothing audits).
    """
    model = type(obj)
    meta = model._meta
    auto = meta.auto_field
    pk_set = obj.pk is not None
    fields = [f for f in meta.concrete_fields if pk_set or f is not auto]
    returning: list[Any] = [] if pk_set or auto is None else [auto]
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, [obj])
    db = router.db_for_write(model)
    compiler: Any = query.get_compiler(using=db)
    compiler.returning_fields = returning
    with connections[db].cursor() as cursor:
        for sql, params in compiler.as_sql():
            cursor.execute(sql, params)
        if returning:
            row = cursor.fetchone()
            inserted = row is not None
            if row is not None:
                obj.pk = row[0]
        else:
            inserted = cursor.rowcount == 1
    if inserted:
        obj._state.adding = False
        obj._state.db = db
    return inserted

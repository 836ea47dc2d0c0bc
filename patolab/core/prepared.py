"""Hot-path reads (and single-row updates) that the ORM builds once and later requests re-run as SQL.

Compiling a queryset costs far more CPU than running it: on this project's
machines a select_related report read spends ~1.7 ms building its SQL and
~0.1 ms in PostgreSQL. A read that runs on every request of a hot path (serving
a cached PDF) is therefore written with the ORM as usual, but compiled once per
*shape* (for example: the visibility rule of a role) with placeholder values,
and then executed with each request's own values in place of the placeholders.
The SQL, and so the visibility rule in it, is exactly what the ORM built.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.core.signals import setting_changed
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators
from django.dispatch import receiver

from .db import prepared_cursor, update_statement

M = TypeVar("M", bound=Model)

# Placeholder values no query carries as a constant, so each one marks exactly
# the parameter slots of its value: negative ids no row has, strings with NUL
# bytes (which PostgreSQL text cannot even hold), instants in year 1.
_PLACEHOLDER_BASE = -7_316_492_000


@dataclass(frozen=True)
class _Plan:
    sql: str
    params: tuple[Any, ...]
    # For each parameter: the name of the value that replaces it, or None.
    slots: tuple[str | None, ...]
    columns: tuple[str, ...]
    using: str


_EMPTY = object()  # the shape can never match a row (e.g. `queryset.none()`)
_PLANS: dict[Hashable, Any] = {}


def _placeholder(value: Any, index: int) -> Any:
    if isinstance(value, bool):
        raise TypeError("booleans change the SQL: put them in the key")
    if isinstance(value, int):
        return _PLACEHOLDER_BASE - index
    if isinstance(value, str):
        return f"\x00prepared:{index}\x00"
    if isinstance(value, datetime):
        return datetime(1, 1, 1, 0, 0, 0, index, tzinfo=UTC)
    raise TypeError(f"no placeholder for {type(value).__name__}")


def _compile(
    build: Callable[[dict[str, Any]], QuerySet[Any]], values: dict[str, Any]
) -> Any:
    marks = _marks(values)
    queryset = build(marks)
    query = queryset.query
    try:
        sql, params = query.sql_with_params()
    except EmptyResultSet:
        return _EMPTY
    # The column order of a values() queryset (Django's ValuesIterable).
    columns = (
        *query.extra_select,
        *query.values_select,
        *query.annotation_select,
    )
    return _Plan(sql, tuple(params), _slots(marks, params), tuple(columns), queryset.db)


def _marks(values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: _placeholder(values[name], index)
        for index, name in enumerate(sorted(values))
    }


def _slots(marks: dict[str, Any], params: Any) -> tuple[str | None, ...]:
    # A value the SQL does not use (a lab role's visibility ignores the user
    # id) simply has no slot: the key says the SQL does not depend on it.
    by_value = {(type(value), value): name for name, value in marks.items()}
    return tuple(by_value.get((type(p), p)) for p in params)


def _params(plan: _Plan | _InstancePlan, values: dict[str, Any]) -> list[Any]:
    return [
        values[slot] if slot is not None else param
        for slot, param in zip(plan.slots, plan.params, strict=True)
    ]


def prepared_row(
    key: Hashable,
    build: Callable[[dict[str, Any]], QuerySet[Any]],
    **values: Any,
) -> dict[str, Any] | None:
    """The first row of the values() queryset `build(placeholders)`, run with
    `values` (ids, strings, instants) in place of its placeholders; None if
    no row.

    `build` receives `{name: placeholder}` and may use each placeholder as a
    plain query parameter. It runs once per `key`: the key must name everything
    else the SQL depends on (say, the role whose visibility rule it applies).
    Rows come back as the database driver returns them (no field converters):
    select plain text and number columns.
    """
    rows = _run(key, build, values, "")
    return rows[0] if rows else None


@dataclass(frozen=True)
class _InstancePlan:
    sql: str
    slots: tuple[str | None, ...]
    params: tuple[Any, ...]
    using: str
    # The compiler that wrote the SQL: it knows the select list, how each
    # column converts and which model each column range instantiates.
    compiler: Any
    # The model's own columns in the row, and their attribute names.
    columns: slice
    init_list: tuple[str, ...]
    populators: tuple[Any, ...]
    # Position -> (converters, expression) of the columns that need one
    # (none on PostgreSQL for most models), worked out once.
    converters: dict[int, Any]


def prepared_instance(
    key: Hashable,
    build: Callable[[dict[str, Any]], QuerySet[M]],
    **values: Any,
) -> M | None:
    """The first model instance of `build(placeholders)` (select_related and
    annotations included, as the ORM would give it), run with `values` in
    place of the placeholders; None if no row. Compiled once per `key`, like
    `prepared_row`; the row is converted by the compiler that wrote the SQL,
    so every field type reads back as with the ORM."""
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _compile_instance(build, values)
    if plan is _EMPTY:
        return None
    with prepared_cursor(plan.using) as cursor:
        cursor.execute(plan.sql, _params(plan, values))
        rows = cursor.fetchmany(1)
    if not rows:
        return None
    compiler = plan.compiler
    row = rows[0]
    if plan.converters:
        (row,) = compiler.apply_converters([row], plan.converters)
    obj: M = compiler.klass_info["model"].from_db(
        plan.using, plan.init_list, row[plan.columns]
    )
    for populator in plan.populators:
        populator.populate(row, obj)
    for name, position in compiler.annotation_col_map.items():
        setattr(obj, name, row[position])
    return obj


def _compile_instance(
    build: Callable[[dict[str, Any]], QuerySet[Any]], values: dict[str, Any]
) -> Any:
    marks = _marks(values)
    queryset = build(marks)
    compiler = queryset.query.get_compiler(queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return _EMPTY
    select, klass_info = compiler.select, compiler.klass_info
    if compiler.has_composite_fields([s[0] for s in select]):
        raise TypeError("prepared_instance: composite primary keys are not supported")
    fields = klass_info["select_fields"]
    columns = slice(fields[0], fields[-1] + 1)
    return _InstancePlan(
        sql=sql,
        slots=_slots(marks, params),
        params=tuple(params),
        using=queryset.db,
        compiler=compiler,
        columns=columns,
        init_list=tuple(f[0].target.attname for f in select[columns]),
        # (django-stubs describe the Django 6 signature, with a fetch mode.)
        populators=tuple(get_related_populators(klass_info, select, queryset.db)),  # type: ignore[call-arg]
        converters=compiler.get_converters(
            [s[0] for s in select[: compiler.col_count]]
        ),
    )


def prepared_rows(
    key: Hashable,
    build: Callable[[dict[str, Any]], QuerySet[Any]],
    *,
    limit: int,
    offset: int = 0,
    **values: Any,
) -> list[dict[str, Any]]:
    """`prepared_row` for a page of rows: the rows `offset` to `offset +
    limit` of the ordered, unsliced values() queryset `build(placeholders)`.
    Django writes a slice's bounds into the SQL text; here they are two more
    parameters of the same prepared statement (any page, one plan)."""
    return _run(key, build, values, " LIMIT %s OFFSET %s", int(limit), int(offset))


def prepared_update(
    key: Hashable,
    build: Callable[[dict[str, Any]], tuple[QuerySet[Any], dict[str, Any]]],
    **values: Any,
) -> int:
    """`queryset.update(**assignments)` for `(queryset, assignments) =
    build(placeholders)`, compiled once per `key` and run with `values` in
    place of the placeholders; the number of rows updated. Assign constants
    or expressions (`Now()`), not placeholders: only the filter's slots are
    replaced."""
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _compile_update(build, values)
    if plan is _EMPTY:
        return 0
    with prepared_cursor(plan.using) as cursor:
        cursor.execute(plan.sql, _params(plan, values))
        return int(cursor.rowcount)


def _compile_update(
    build: Callable[[dict[str, Any]], tuple[QuerySet[Any], dict[str, Any]]],
    values: dict[str, Any],
) -> Any:
    marks = _marks(values)
    queryset, assignments = build(marks)
    try:
        sql, params, _tables = update_statement(queryset, assignments)
    except EmptyResultSet:
        return _EMPTY
    return _Plan(sql, params, _slots(marks, params), (), queryset.db)


def _run(
    key: Hashable,
    build: Callable[[dict[str, Any]], QuerySet[Any]],
    values: dict[str, Any],
    suffix: str,
    *extra: Any,
) -> list[dict[str, Any]]:
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _compile(build, values)
    if plan is _EMPTY:
        return []
    with prepared_cursor(plan.using) as cursor:
        cursor.execute(plan.sql + suffix, [*_params(plan, values), *extra])
        rows = cursor.fetchall() if suffix else cursor.fetchmany(1)
    columns = plan.columns
    return [dict(zip(columns, row, strict=True)) for row in rows]


@receiver(setting_changed)
def _forget_plans(**kwargs: Any) -> None:
    # Tests that override settings (a database, a language) get fresh SQL.
    _PLANS.clear()

"""Many rows through one statement, handed to the database driver as one executemany.

SQLAlchemy's own executemany builds a parameter dictionary and runs its bind processing
machinery for every row; for the statements that carry a page or a batch (a hundred events,
a few hundred order lines, a dozen columns each) that bookkeeping cost more CPU than the
database did. Here a statement is compiled once per database and set of columns, and each row
is bound by position with the very bind processors SQLAlchemy would apply (JSON, dates,
booleans), so what lands in the database is the same. Statements still pass through the
engine's connection, so its events (statement counting, logging) see them as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True, slots=True)
class _Parameter:
    """One parameter of the compiled statement: a row's value, or one the statement fixed."""

    name: str
    process: Callable[[Any], Any] | None
    from_row: bool
    fixed: Any


@dataclass(frozen=True, slots=True)
class _Prepared:
    sql: str
    #: In the order the driver takes them.
    parameters: tuple[_Parameter, ...]
    #: The driver takes parameters by position (a tuple per row), else by name (a dict).
    positional: bool


def execute_many(
    session: Session, statement: Executable, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Run ``statement`` once per row of ``rows`` (every row with the same keys), in one
    executemany. An insert gets exactly the rows' columns. Nothing is returned: RETURNING
    cannot come back from a driver's executemany."""
    if not rows:
        return
    connection = session.connection()
    prepared = _prepare(connection.dialect, statement, tuple(rows[0]))
    plan = [(p.name, p.process, p.from_row, p.fixed) for p in prepared.parameters]
    bound = [
        tuple(
            [
                (row[name] if process is None else process(row[name])) if from_row else fixed
                for name, process, from_row, fixed in plan
            ]
        )
        for row in rows
    ]
    if prepared.positional:
        connection.exec_driver_sql(prepared.sql, bound)
    else:
        names = [name for name, *_ in plan]
        connection.exec_driver_sql(
            prepared.sql, [dict(zip(names, values, strict=True)) for values in bound]
        )


@lru_cache(maxsize=256)
def _prepare(dialect: Dialect, statement: Executable, keys: tuple[str, ...]) -> _Prepared:
    assert isinstance(statement, ClauseElement)
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler)
    names = compiled.positiontup if compiled.positional else list(compiled.binds)
    # Columns an insert leaves to their defaults (``default=""``) are bound like the rest.
    defaults = {column.key: column.default for column in compiled.insert_prefetch}
    parameters = []
    for name in names or ():
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        from_row = name in keys
        fixed = None
        if not from_row:
            fixed = _fixed_value(name, bind.effective_value, defaults.get(name))
            fixed = fixed if process is None else process(fixed)
        parameters.append(_Parameter(name, process, from_row, fixed))
    return _Prepared(compiled.string, tuple(parameters), compiled.positional)


def _fixed_value(name: str, bound: Any, default: Any) -> Any:
    """The value of a parameter no row gives: the statement's own, or the column's default."""
    if default is None:
        return bound
    if not default.is_scalar:
        raise TypeError(f"execute_many: column {name} has a computed default; give it in every row")
    return default.arg

"""Parameter conditions (`wavelength < 1 nm`) parsed and turned into SQL on an index."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal_column, select
from sqlalchemy.orm import Session

from fairbeam.catalogue.models import Dataset, DatasetParameter, ParameterType
from fairbeam.catalogue.units import si_conversion
from fairbeam.errors import InvalidInput

OPERATORS = ("<=", ">=", "!=", "=", "<", ">", "~")
_CONDITION = re.compile(
    r"^\s*(?P<name>[^\s<>=!~]+)\s*(?P<op><=|>=|!=|=|<|>|~)\s*(?P<value>.+?)\s*$", re.DOTALL
)
_NUMBER_UNIT = re.compile(r"^(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(?P<unit>\S.*)?$")
# Relative tolerance of `=` on converted values, which carry rounding errors.
_EQUAL_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Condition:
    """One `NAME OP VALUE [UNIT]` condition."""

    name: str
    op: str
    text: str
    number: float | None
    unit: str | None


def parse_condition(raw: str) -> Condition:
    """Parse a condition, or say what is wrong with it."""
    match = _CONDITION.match(raw)
    if not match:
        raise InvalidInput(
            f"param {raw!r} is not a condition: write NAME OP VALUE [UNIT] with OP one of "
            f"{' '.join(OPERATORS)}, e.g. 'wavelength < 1 nm'"
        )
    name, op, value = match["name"], match["op"], match["value"]
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return Condition(name, op, value[1:-1], None, None)
    number_unit = _NUMBER_UNIT.match(value)
    if op == "~" or not number_unit:
        if op not in ("=", "!=", "~"):
            raise InvalidInput(
                f"param {raw!r}: {op} needs a number, optionally with a unit, got {value!r}"
            )
        return Condition(name, op, value, None, None)
    return Condition(name, op, value, float(number_unit["num"]), number_unit["unit"])


def _compare(column: Any, op: str, number: float) -> Any:
    if op == "=":
        spread = abs(number) * _EQUAL_TOLERANCE
        return column.between(number - spread, number + spread)
    if op == "!=":
        spread = abs(number) * _EQUAL_TOLERANCE
        return ~column.between(number - spread, number + spread)
    return {
        "<": column < number,
        "<=": column <= number,
        ">": column > number,
        ">=": column >= number,
    }[op]


def condition_clause(
    condition: Condition, type_id: int | None, per_dataset: bool = False, dataset_id: Any = None
) -> ColumnElement[bool]:
    """An EXISTS clause on the dataset's parameter rows for ``condition``.

    With a unit pint knows, the SI values compare (any unit of the same dimension
    matches); with an unknown unit, values given in that very unit compare; without
    a unit, the numbers as given compare.

    ``per_dataset`` asks for the clause to be checked on each candidate dataset by its
    primary key, once another filter (a text search) has narrowed the candidates: a
    range such as `wavelength < 1 nm` often matches nearly every dataset, and reading
    all its index entries costs more than a lookup per candidate. ``dataset_id`` is the
    column the clause correlates with (the dataset's id by default).
    """
    p = DatasetParameter
    if type_id is None:
        return exists(select(p.dataset_id).where(p.dataset_id == -1))  # name never used
    dataset_id = Dataset.id if dataset_id is None else dataset_id
    where: list[ColumnElement[bool]] = [p.dataset_id == dataset_id, p.type_id == type_id]
    if condition.number is None:
        if condition.op == "~":
            pattern = f"%{condition.text.lower()}%"
            where.append(func.lower(p.value_text).like(pattern))
        elif condition.op == "=":
            where.append(p.value_text == condition.text)
        else:
            where.append(p.value_text != condition.text)
    elif condition.unit:
        conversion = si_conversion(condition.unit)
        if conversion is not None:
            si = condition.number * conversion.factor + conversion.offset
            where += [p.si_unit == conversion.si_unit, _compare(p.si_value, condition.op, si)]
        else:
            where += [
                p.unit == condition.unit,
                _compare(p.value_num, condition.op, condition.number),
            ]
    else:
        where.append(_compare(p.value_num, condition.op, condition.number))
    subquery = select(p.dataset_id).where(and_(*where))
    if per_dataset:
        # OFFSET 0 keeps PostgreSQL from turning the EXISTS into a join over every
        # matching parameter row; it stays a primary-key lookup per dataset.
        subquery = subquery.offset(literal_column("0"))
    return exists(subquery)


def parameter_type_ids(session: Session, names: list[str]) -> dict[str, int]:
    """Ids of parameter types by name (unknown names are absent)."""
    if not names:
        return {}
    rows = session.connection().execute(
        select(ParameterType.name, ParameterType.id).where(ParameterType.name.in_(names))
    )
    return {name: type_id for name, type_id in rows}

"""Demo rows generated from the catalog: deterministic for a seed, varied in every field."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

from contracts.catalog import CUSTOMER, FieldDef, FieldType, ObjectType

_FIRST = [
    "Ayu",
    "Budi",
    "Citra",
    "Dewi",
    "Eko",
    "Fajar",
    "Gita",
    "Hadi",
    "Indah",
    "Joko",
    "Kartika",
    "Lukas",
    "Maria",
    "Nina",
    "Oscar",
    "Putri",
    "Rina",
    "Sari",
    "Tono",
    "Wulan",
]
_LAST = [
    "Santoso",
    "Wijaya",
    "Halim",
    "Pratama",
    "Siregar",
    "O'Brien",
    "Nasution",
    "Tan",
    "Kusuma",
    "Lim",
]
_CITIES = [
    "Jakarta",
    "Bandung",
    "Surabaya",
    "Medan",
    "Denpasar",
    "Yogyakarta",
    "Makassar",
    "Semarang",
    "jakarta",
    "Bogor",
]
_TEXT_CHOICES: dict[str, list[str]] = {
    "city": _CITIES,
    "source": ["website", "whatsapp", "import", "referral", "event", "instagram"],
    "gender": ["female", "male", "other"],
}
_NEVER_EMPTY = {"full_name", "email"}
EMPTY_SHARE = 0.05  # every field knows emptiness

Generate = Callable[[FieldDef, random.Random, date], Any]
_BY_TYPE: dict[FieldType, Generate] = {
    FieldType.SINGLE_LINE_TEXT: lambda f, rng, _: rng.choice(
        _TEXT_CHOICES.get(f.name, ["alpha", "beta", "gamma"])
    ),
    FieldType.NUMBER: lambda f, rng, _: (
        rng.randint(17, 80) if f.column_type == "INT64" else round(rng.uniform(0, 5000), 2)
    ),
    FieldType.DATE: lambda _, rng, today: (
        today - timedelta(days=rng.randint(0, 3 * 365))
    ).isoformat(),
    FieldType.BOOLEAN: lambda _, rng, __: rng.random() < 0.3,
}


def rows(
    obj: ObjectType, count: int, *, seed: int = 7, today: date | None = None
) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    today = today or date.today()  # noqa: DTZ011 - relative dates for a demo
    for i in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        row: dict[str, Any] = {obj.id_column: f"cus_{i:07d}"}
        for field in obj.fields:
            if field.name not in _NEVER_EMPTY and rng.random() < EMPTY_SHARE:
                row[field.column] = None
            else:
                row[field.column] = _BY_TYPE[field.type](field, rng, today)
        if "full_name" in row:
            row["full_name"] = f"{first} {last}"
        if "email" in row:
            row["email"] = f"{first}.{last}{i}@example.com".lower().replace("'", "")
        yield row


def customers(count: int, *, seed: int = 7, today: date | None = None) -> Iterator[dict[str, Any]]:
    return rows(CUSTOMER, count, seed=seed, today=today)

"""Demo rows for every object type, generated from the catalog.

Deterministic for a seed and a reference date; every foreign key points at a row
that exists; every field type has empty values too. Amounts are whole numbers
stored as FLOAT64 so that sums and averages are exact in any engine (the
reference evaluator and the warehouse then agree to the last bit).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contracts.catalog import Catalog, FieldCategory, FieldDef, FieldType, ObjectType
from contracts.clock import SYSTEM_CLOCK

EMPTY_SHARE = 0.06
HISTORY_DAYS = 3 * 365

# Rows per object type for each customer of the scale (at least one row each).
RATIOS: dict[str, float] = {
    "company": 1 / 20,
    "customer": 1,
    "conversation": 1,
    "campaign_recipient": 2,
    "deal": 1 / 3,
    "ticket": 1 / 2,
    "order": 1.5,
    "customer_event": 3,
    "revealed_company": 1 / 50,
    "people": 1 / 5,
    "user": 1 / 4,
    "session": 1 / 2,
    "event": 1,
    "web_conversion": 1 / 10,
    "ecommerce_event": 1 / 5,
    "sales_conversion": 1 / 50,
    "crm_parent_account": 1 / 500,
    "crm_account": 1 / 50,
    "crm_contact": 1 / 10,
    "crm_lead": 1 / 10,
    "crm_opportunity": 1 / 20,
    "crm_quote": 1 / 20,
    "crm_order": 1 / 30,
    "crm_contract": 1 / 40,
    "crm_campaign": 1 / 1000,
    "crm_campaign_member": 1 / 5,
    "crm_event": 1 / 10,
}
# References that are often unknown: an anonymous user has no person, and so on.
OPTIONAL_REFERENCES = {
    ("user", "people_id"): 0.6,
    ("people", "company_id"): 0.2,
    ("customer", "company_id"): 0.3,
    ("web_conversion", "people_id"): 0.5,
    ("crm_campaign_member", "lead_id"): 0.5,
    ("crm_campaign_member", "contact_id"): 0.5,
}

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
_WORDS = [
    "Jakarta",
    "Bandung",
    "Surabaya",
    "Medan",
    "Denpasar",
    "Yogyakarta",
    "Makassar",
    "jakarta",
    "Bogor",
    "Semarang",
]
_TITLES = ["Manager", "Engineer", "Owner", "Analyst", "Director", "Designer"]

# Demo accounts get these custom fields (typed, account-defined).
DEMO_CUSTOM_FIELDS: tuple[FieldDef, ...] = tuple(
    FieldDef(name=n, column=n, type=t, label=label, category=FieldCategory.CUSTOM, options=o)
    for n, t, label, o in (
        ("cf_shoe_size", FieldType.NUMBER, "Shoe size", ()),
        (
            "cf_favorite_color",
            FieldType.DROPDOWN_SELECT,
            "Favorite color",
            ("red", "green", "blue", "black"),
        ),
        (
            "cf_interests",
            FieldType.MULTIPLE_SELECT,
            "Interests",
            ("sports", "music", "travel", "food"),
        ),
        ("cf_birthday", FieldType.DATE, "Birthday", ()),
        ("cf_is_member", FieldType.BOOLEAN, "Club member", ()),
        ("cf_referral_code", FieldType.SINGLE_LINE_TEXT, "Referral code", ()),
    )
)


@dataclass(frozen=True)
class Scale:
    customers: int

    def rows(self, object_type: str) -> int:
        return max(1, round(self.customers * RATIOS.get(object_type, 1 / 10)))


_BY_NAME: dict[str, Callable[[random.Random, int], str]] = {
    "full_name": lambda rng, _: f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
    "name": lambda rng, _: f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
    "email": lambda rng, i: f"{rng.choice(_FIRST).lower()}.{i}@example.com",
    "phone": lambda rng, _: f"+62812{rng.randrange(10**7):07d}",
    "job_title": lambda rng, _: rng.choice(_TITLES),
    "title": lambda rng, _: rng.choice(_TITLES),
    "city": lambda rng, _: rng.choice(_WORDS),
    "country": lambda rng, _: rng.choice(_WORDS),
    "company": lambda rng, _: rng.choice(_WORDS),
}


def _days_ago(rng: random.Random) -> int:
    """A fifth of all dates fall in the last two weeks: recent activity is where
    windows start and end, and where their edges matter."""
    return rng.randint(0, 14) if rng.random() < 0.2 else rng.randint(0, HISTORY_DAYS)


_BY_TYPE: dict[FieldType, Callable[[FieldDef, random.Random, int, date], Any]] = {
    FieldType.URL: lambda _, rng, i, __: (
        f"https://example.com/{rng.choice(['pricing', 'blog', 'docs', 'shop'])}/{i % 97}"
    ),
    FieldType.TEXT_AREA: lambda _, rng, i, __: (
        f"Note {i}: {rng.choice(_WORDS)} {rng.choice(_TITLES).lower()} follow-up"
    ),
    FieldType.UPLOAD: lambda fd, _, i, __: f"files/{fd.name}/{i}.png",
    FieldType.SIGNATURE: lambda fd, _, i, __: f"files/{fd.name}/{i}.png",
    FieldType.GPS: lambda _, rng, __, ___: f"{rng.uniform(-8, 3):.4f},{rng.uniform(95, 140):.4f}",
    FieldType.NUMBER: lambda fd, rng, _, __: (
        rng.randint(0, 100) if fd.column_type == "INT64" else float(rng.randint(1, 500))
    ),
    FieldType.DATE: lambda _, rng, __, today: (today - timedelta(days=_days_ago(rng))).isoformat(),
    FieldType.BOOLEAN: lambda _, rng, __, ___: rng.random() < 0.35,
    FieldType.SINGLE_LINE_TEXT: lambda fd, rng, _, __: (
        f"{fd.name[:3].upper()}-{rng.randrange(1000):03d}"
    ),
}


def value(fd: FieldDef, rng: random.Random, i: int, today: date) -> Any:
    """A value for one field; None for an empty one."""
    if fd.type is FieldType.MULTIPLE_SELECT:
        return sorted(rng.sample(fd.options, rng.randint(0, min(3, len(fd.options)))))
    if rng.random() < EMPTY_SHARE:
        return None
    if fd.options:
        return rng.choice(fd.options)
    by_name = _BY_NAME.get(fd.name)
    return by_name(rng, i) if by_name else _BY_TYPE[fd.type](fd, rng, i, today)


def _id(obj: ObjectType, i: int) -> str:
    return f"{obj.name[:4]}_{i:07d}"


def _order(catalog: Catalog) -> list[ObjectType]:
    """Parents before children, so references can point at generated ids."""
    done: list[ObjectType] = []
    pending = dict(catalog.objects)
    while pending:
        ready = [
            o
            for o in pending.values()
            if all(
                f.references in {d.name for d in done} or f.references == o.name
                for f in o.fields
                if f.references
            )
        ]
        for obj in ready:
            done.append(obj)
            del pending[obj.name]
    return done


def warehouse(
    catalog: Catalog, scale: Scale, *, seed: int = 7, today: date | None = None
) -> Iterator[tuple[ObjectType, list[dict[str, Any]]]]:
    """Every object type's rows, parents first."""
    today = today or SYSTEM_CLOCK.now().astimezone().date()  # the machine's local day
    counts: dict[str, int] = {}
    for obj in _order(catalog):
        rng = random.Random(f"{seed}:{obj.name}")  # noqa: S311 - demo data, not secrets
        n = scale.rows(obj.name)
        rows = []
        for i in range(n):
            row: dict[str, Any] = {obj.id_column: _id(obj, i)}
            for fd in obj.fields:
                if fd.references:
                    parent = catalog.objects[fd.references]
                    share = OPTIONAL_REFERENCES.get((obj.name, fd.name), 0.0)
                    row[fd.column] = (
                        None
                        if rng.random() < share
                        else _id(parent, rng.randrange(counts[parent.name]))
                    )
                else:
                    row[fd.column] = value(fd, rng, i, today)
            rows.append(row)
        counts[obj.name] = n
        yield obj, rows


def customers(
    count: int, *, seed: int = 7, today: date | None = None, catalog: Catalog | None = None
) -> list[dict[str, Any]]:
    from contracts.catalog import base_catalog  # noqa: PLC0415

    for obj, rows in warehouse(catalog or base_catalog(), Scale(count), seed=seed, today=today):
        if obj.name == "customer":
            return rows
    raise AssertionError("the catalog has no customer object")


def table_rows(tables: Mapping[str, list[dict[str, Any]]], obj: ObjectType) -> list[dict[str, Any]]:
    return tables.get(obj.table, [])

"""An account's catalog: the base object types plus its custom fields from Postgres."""

from __future__ import annotations

from collections import defaultdict
from uuid import UUID

from contracts.catalog import Catalog, FieldCategory, FieldDef, FieldType, base_catalog
from segment_runtime.db import Connection


async def account_catalog(conn: Connection, account_id: UUID) -> Catalog:
    rows = await conn.fetch(
        "SELECT object_type, name, field_type, label, options FROM account_fields"
        " WHERE account_id = $1 ORDER BY object_type, name",
        account_id,
    )
    custom: dict[str, list[FieldDef]] = defaultdict(list)
    for r in rows:
        custom[r["object_type"]].append(
            FieldDef(
                name=r["name"],
                column=r["name"],
                type=FieldType(r["field_type"]),
                label=r["label"],
                category=FieldCategory.CUSTOM,
                options=tuple(r["options"]),
            )
        )
    return base_catalog().with_custom_fields({k: tuple(v) for k, v in custom.items()})

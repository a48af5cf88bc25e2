"""The field palette: what a rule may say about each object type."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from contracts.catalog import OBJECT_TYPES
from segment_api.http.deps import CurrentPrincipal, PaletteDep, rate_limited
from segment_api.http.problems import problem_responses
from segment_api.palette.schemas import FieldValuesOut, PaletteOut
from segment_api.shared.policy import require_scope
from segment_runtime.auth import Scope

router = APIRouter(
    prefix="/v1/objects",
    tags=["palette"],
    responses=problem_responses(401, 403, 422),
)


class ObjectOut(BaseModel):
    name: str
    label: str
    family: str


@router.get("")
async def list_objects(principal: CurrentPrincipal) -> list[ObjectOut]:
    """The object types one can segment."""
    require_scope(principal, Scope.VIEW)
    return [ObjectOut(name=o.name, label=o.label, family=o.family) for o in OBJECT_TYPES.values()]


@router.get("/{object_name}/fields", responses=problem_responses(404))
async def object_fields(
    object_name: str, principal: CurrentPrincipal, palette: PaletteDep
) -> PaletteOut:
    """Catalog fields with their operators, the account's custom fields (registered, and
    discovered in the warehouse), metrics, event sources and relations. Cached for an hour."""
    return await palette.fields(principal, object_name)


@router.get(
    "/{object_name}/fields/{field_name}/values",
    dependencies=[rate_limited("values")],
    responses=problem_responses(404, 502, 503, 504),
)
async def field_values(
    object_name: str, field_name: str, principal: CurrentPrincipal, palette: PaletteDep
) -> FieldValuesOut:
    """Popular values with counts, a sample and the unique count. Cached for an hour."""
    return await palette.values(principal, object_name, field_name)

"""The CRM RFC frontend's customer routes."""

from __future__ import annotations

from fastapi import APIRouter

from segment_api.http.deps import CurrentPrincipal, PaletteDep
from segment_api.http.problems import problem_responses
from segment_api.palette.schemas import CustomerFieldsOut

router = APIRouter(prefix="/v1/customers", tags=["palette"], responses=problem_responses(401, 403))


@router.get("/fields", response_model_by_alias=True)
async def customer_fields(principal: CurrentPrincipal, palette: PaletteDep) -> CustomerFieldsOut:
    """The condition palette in the frontend's shape: each field's id, label, fieldType,
    fieldCategory and the conditions its row may use (booleans: is / is_not), the
    association groups (Deals, Conversations, …) and the metric groups (RFM, …)."""
    return await palette.criteria_fields(principal, "customer")

"""The account's plan and limits."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from segment_api.accounts.use_cases import AccountOut, PlanIn
from segment_api.http.deps import AccountsDep, CurrentPrincipal
from segment_api.http.problems import problem_responses

router = APIRouter(tags=["account"], responses=problem_responses(401, 403, 422))


@router.get("/v1/account")
async def my_account(principal: CurrentPrincipal, accounts: AccountsDep) -> AccountOut:
    """The caller's plan and its limits (groups, conditions per group, depth, active
    segments), so a builder can disable "Add Rule" before the server refuses."""
    return await accounts.mine(principal)


@router.put("/v1/accounts/{account_id}/plan")
async def set_account_plan(
    account_id: UUID, body: PlanIn, principal: CurrentPrincipal, accounts: AccountsDep
) -> AccountOut:
    """Platform operators only (`platform_operator: all`): put an account on a plan."""
    return await accounts.set_plan(principal, account_id, body)

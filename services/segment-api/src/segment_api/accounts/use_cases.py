"""The account's plan: what its users may build (read by the frontend before the server
says no), and its setting by a platform operator."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

from contracts.limits import DEFAULT_PLAN, PLANS, PlanLimits
from segment_api.accounts import repository as accounts_repository
from segment_api.http.problems import FieldError, ProblemError, forbidden
from segment_api.segments import repository
from segment_api.shared.policy import require_scope
from segment_runtime.auth import Access, Principal, Scope
from segment_runtime.db import Pool


class AccountOut(BaseModel):
    id: UUID
    plan: str = Field(examples=["plus"])
    limits: PlanLimits
    active_segments: int = Field(description="Custom segments counting towards the limit.")
    user_id: str | None = Field(None, description="The caller (on their own account only).")
    permissions: dict[Scope, Access] | None = Field(
        None,
        description="The caller's access per permission key, so a console offers only the "
        "actions the server would allow (on their own account only).",
    )


class PlanIn(BaseModel):
    plan: str = Field(description="One of the plans.", examples=["plus"])


class Accounts:
    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def show(self, principal: Principal, account_id: UUID | None = None) -> AccountOut:
        account = account_id or principal.account_id
        async with self._pool.acquire() as conn:
            plan = await accounts_repository.account_plan(conn, account)
            active = await repository.count_active_custom(conn, account)
        return AccountOut(
            id=account,
            plan=plan,
            limits=PLANS.get(plan, PLANS[DEFAULT_PLAN]),
            active_segments=active,
        )

    async def mine(self, principal: Principal) -> AccountOut:
        require_scope(principal, Scope.VIEW)
        shown = await self.show(principal)
        every = {scope: principal.access(scope) for scope in Scope}
        every[Scope.CUSTOMERS] = principal.customer_scope
        return shown.model_copy(update={"user_id": principal.user_id, "permissions": every})

    async def set_plan(self, principal: Principal, account_id: UUID, body: PlanIn) -> AccountOut:
        if principal.access(Scope.OPERATOR) is not Access.ALL:
            raise forbidden("setting a plan needs platform_operator")
        if body.plan not in PLANS:
            raise ProblemError(
                422,
                "invalid_request",
                "Unknown plan",
                errors=[
                    FieldError(path="plan", code="unknown_plan", message=", ".join(sorted(PLANS)))
                ],
            )
        async with self._pool.acquire() as conn, conn.transaction():
            await accounts_repository.set_plan(conn, account_id, body.plan)
        return await self.show(principal, account_id)

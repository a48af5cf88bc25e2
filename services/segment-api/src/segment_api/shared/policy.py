"""Who may do what to which segment: the scopes, the one visibility rule
(`Principal.sees`) and the refusals that follow from a segment's state."""

from __future__ import annotations

from uuid import UUID

from segment_api.http.problems import FieldError, ProblemError, forbidden, not_found
from segment_api.segments import repository
from segment_api.shared.rows import SegmentRow
from segment_runtime.auth import Access, Principal, Scope
from segment_runtime.db import Connection


def require_scope(principal: Principal, scope: Scope) -> Access:
    access = principal.access(scope)
    if access is Access.DISABLED:
        raise forbidden(f"{scope} is disabled for this user")
    return access


async def visible(conn: Connection, principal: Principal, segment_id: UUID) -> SegmentRow:
    """The segment, if the caller may see it; else 404, whether it exists or not."""
    require_scope(principal, Scope.VIEW)
    row = await repository.get_segment(conn, principal.account_id, segment_id)
    if row is None or not principal.sees(row.created_by):
        raise not_found()
    return row


async def locked(
    conn: Connection,
    principal: Principal,
    segment_id: UUID,
    scope: Scope,
    *,
    rebuilding: bool = False,
) -> SegmentRow:
    """The segment, locked for change, if the caller may act on it with `scope`.

    The account's embedding lock comes first, always: a writer that held a segment's
    row and then waited for it would deadlock with one that holds it and adds an
    embedding (whose foreign key waits for that row)."""
    await repository.lock_embeddings(conn, principal.account_id)
    row = await repository.lock_segment(conn, principal.account_id, segment_id)
    if row is None or not principal.sees(row.created_by):
        raise not_found()
    access = require_scope(principal, scope)
    if access is Access.OWNED and row.created_by != principal.user_id:
        raise forbidden(f"{scope} is limited to segments you created")
    if not row.is_custom and not rebuilding:
        raise ProblemError(
            403,
            "default_segment",
            "The default segment is fixed",
            "All Data can be rebuilt, not edited, archived or deleted",
        )
    return row


async def refuse_if_embedded(
    conn: Connection, principal: Principal, segment_id: UUID, action: str
) -> None:
    """A segment others embed stays; the refusal names only the parents the caller sees."""
    parents = await repository.embedding_parents(conn, segment_id)
    if parents:
        shown = [name for name, owner in parents if principal.sees(owner)]
        hidden = len(parents) - len(shown)
        names = shown + ([f"{hidden} segment(s) you cannot see"] if hidden else [])
        raise ProblemError(
            422,
            "embedded_by_others",
            f"The segment cannot be {action}",
            "it is embedded by: " + ", ".join(names),
        )


def refuse_if_archived(row: SegmentRow) -> None:
    if not row.active:
        raise ProblemError(
            422, "segment_archived", "An archived segment is not rebuilt", "unarchive it first"
        )


def name_taken(name: str) -> ProblemError:
    # 422, not 409: the RFC's frontend reads a 409 on create as "segment limit reached".
    return ProblemError(
        422,
        "name_taken",
        "Name already in use",
        f"an active segment is already named '{name}'",
        errors=[FieldError(path="name", code="name_taken", message="already in use")],
    )

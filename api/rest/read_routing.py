"""Which store answers a read: the replica when it has what the caller must see, the primary otherwise.

With ``CUSTODY_READ_DATABASE_URL`` set (ledger/read_replica.py), product reads,
histories, verification and exports come from the replica. After a write, the
primary derives the read models at once (the replica receives them with the events),
answers ``X-Log-Position`` and remembers it for the writer, so the writer's next read
waits for the replica to reach it or reads the primary: read-your-writes, per person,
across requests. Another client that must see a position it was told of sends
``X-Min-Log-Position``. Every such read says where it came from in ``X-Read-From``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request, Response

from api.rest.problems import ApiProblem
from ledger.store import EventStore
from projections import runner

if TYPE_CHECKING:
    from api.rest.context import ApiContext
    from api.rest.tokens import Principal

MIN_POSITION = "X-Min-Log-Position"
POSITION = "X-Log-Position"
READ_FROM = "X-Read-From"


def read_models_position(store: EventStore) -> int:
    """The log position every read model of ``store`` has been derived to."""
    return min(follower.position() for follower in runner.followers(store))


def _asked_position(request: Request) -> int:
    text = request.headers.get(MIN_POSITION)
    if text is None:
        return 0
    if not text.strip().isdigit() or len(text.strip()) > 18:
        raise ApiProblem(
            422, "Invalid request", f"{MIN_POSITION} must be a log position (a whole number), not {text[:40]!r}",
            rule="invalid_log_position", field=MIN_POSITION,
        )  # fmt: skip
    return int(text)


def read_store(request: Request, response: Response, ctx: ApiContext, principal: Principal) -> EventStore:
    """The replica if it has reached what this caller must see (within the wait), else the primary."""
    asked = _asked_position(request)
    if ctx.replica is None:
        return ctx.ledger.store
    wanted = max(asked, ctx.last_writes.get(principal.username, 0))
    if ctx.replica.reached(wanted):
        response.headers[READ_FROM] = "replica"
        return ctx.replica.store
    response.headers[READ_FROM] = "primary"
    return ctx.ledger.store


def note_write(ctx: ApiContext, principal: Principal, response: Response) -> None:
    """After a committed write with a replica: derive the read models now and remember the writer's position."""
    if ctx.replica is None:
        return
    runner.catch_up(ctx.ledger.store)
    position = read_models_position(ctx.ledger.store)
    ctx.last_writes[principal.username] = position
    response.headers[POSITION] = str(position)

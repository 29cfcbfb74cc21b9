"""The log served as C2SP tlog-tiles under ``/log``: its checkpoint, hash tiles and entry bundles.

A monitor signed in with any role polls ``/log/checkpoint`` and fetches ``/log/tile/…``
to rebuild every root and check every new checkpoint extends the last — without access
to the database (docs/bundle-format.md, "The log as tiles"). Tiles hold hashes only:
nothing about a product or a patient. Everything served is covered by the latest signed
checkpoint; a full tile never changes, so it may be cached for good.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from api.rest import access
from api.rest.access import allow
from api.rest.context import ApiContext, context
from api.rest.problems import ApiProblem, responses
from api.rest.tokens import Principal
from ledger.log_tiles import entry_bundle, hash_tile, parse_tile_path
from ledger.verifier import stored_checkpoints

router = APIRouter(tags=["reading"])

IMMUTABLE = "private, max-age=31536000, immutable"
"""A full tile's bytes are fixed by the tree: a monitor keeps them (private: the log is read signed in)."""
PARTIAL = "private, no-cache"


def _signed_size(ctx: ApiContext) -> tuple[int, str]:
    checkpoints = stored_checkpoints(ctx.ledger.store)
    if not checkpoints:
        raise ApiProblem(404, "Not found", "no checkpoint has been signed yet", rule="not_found")
    return checkpoints[-1].size, checkpoints[-1].note


@router.get(
    "/log/checkpoint",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, **responses(401, 403, 404, 503)},
    summary="The latest checkpoint, as a C2SP signed note",
)
def log_checkpoint(
    principal: Annotated[Principal, Depends(allow("read the log", access.EVERYONE))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Response:
    """The note tiles are served against: origin, tree size, root hash, then the ledger's signature."""
    _, note = _signed_size(ctx)
    return Response(note, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"})


@router.get(
    "/log/tile/{path:path}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **responses(401, 403, 404, 422, 503)},
    summary="A hash tile or an entry bundle (C2SP tlog-tiles)",
)
def log_tile(
    path: str,
    principal: Annotated[Principal, Depends(allow("read the log", access.EVERYONE))],
    ctx: Annotated[ApiContext, Depends(context)],
) -> Response:
    """``tile/<L>/<N>[.p/<W>]``: node hashes at height 8·L; ``tile/entries/<N>[.p/<W>]``: event digests."""
    request = parse_tile_path(path)
    size, _ = _signed_size(ctx)
    store = ctx.ledger.store
    with store.side_transaction() as cursor:
        entries = request.level is None
        body = entry_bundle(store, cursor, request, size) if entries else hash_tile(cursor, request, size)
    cache = PARTIAL if request.width is not None else IMMUTABLE
    return Response(body, media_type="application/octet-stream", headers={"Cache-Control": cache})

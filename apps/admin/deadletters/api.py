"""admin's dead-letter HTTP edge, reached only through its sidecar."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from apps.admin.deadletters import service
from apps.admin.deadletters.schemas import DeadLetterList, DeadLetterRead, ReplayRequest
from apps.admin.deps import Services
from servicekit import ok

router = APIRouter(tags=["dead letters"])


@router.get("/dead-letters")
async def list_dead_letters(
    services: Services,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JSONResponse:
    """List stored dead letters, newest first."""
    letters, total = await service.list_dead_letters(limit=limit, offset=offset, dead_letters=services.dead_letters)
    page = DeadLetterList(items=[DeadLetterRead.of(letter) for letter in letters], total=total)
    return ok(page.model_dump(by_alias=True))


@router.post("/dead-letters/{letter_id}/replay")
async def replay(letter_id: str, services: Services, body: ReplayRequest | None = None) -> JSONResponse:
    """Send a dead letter's event (or its corrected payload) again, to the subscriber that gave up on it."""
    letter = await service.replay_dead_letter(
        letter_id,
        dead_letters=services.dead_letters,
        sidecar=services.sidecar,
        corrected_payload=body.payload if body else None,
    )
    return ok(DeadLetterRead.of(letter).model_dump(by_alias=True))

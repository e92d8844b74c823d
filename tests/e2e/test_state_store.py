"""What the kit asks of the profile's `statestore`, asked through a real sidecar: a transaction is all
or nothing, an insert-only write happens once, and both clashes come back as Conflict(ETAG_MISMATCH).

Every consumer's dedupe (servicekit/dedupe.py) and catalog's reservations rest on these three: an
`applied:<eventId>` marker written insert-only in the same transaction as the effect, under ETags.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import pytest

from servicekit.errors import Conflict
from servicekit.sidecar import DaprSidecar, StateOp
from tools.stack import Stack


def _on_probe_sidecar(stack: Stack, scenario: Callable[[DaprSidecar, str], Awaitable[None]]) -> None:
    probe = stack.apps["probe"]

    async def run() -> None:
        sidecar = DaprSidecar(http_port=probe.http_port, grpc_port=probe.grpc_port, api_token=probe.dapr_token)
        try:
            await scenario(sidecar, f"contract-{uuid.uuid4().hex[:8]}")
        finally:
            await sidecar.aclose()

    asyncio.run(run())


def test_a_transaction_with_one_stale_etag_writes_nothing(stack: Stack) -> None:
    async def scenario(sidecar: DaprSidecar, key: str) -> None:
        await sidecar.save_state(f"{key}-stock", {"stock": 5})
        stock = await sidecar.get_state(f"{key}-stock")
        assert stock is not None and stock.etag
        await sidecar.save_state(f"{key}-stock", {"stock": 4}, etag=stock.etag)  # someone else wrote first

        with pytest.raises(Conflict) as clash:
            await sidecar.transact(
                [
                    StateOp(f"{key}-marker", {"applied": True}, insert_only=True),
                    StateOp(f"{key}-stock", {"stock": 3}, stock.etag),
                    StateOp(f"{key}-outbox", {"event": "product.stock_changed"}),
                ]
            )
        assert clash.value.code == "ETAG_MISMATCH"
        assert await sidecar.get_state(f"{key}-marker") is None, "the marker landed without its effect"
        assert await sidecar.get_state(f"{key}-outbox") is None, "the event was staged without its effect"
        now = await sidecar.get_state(f"{key}-stock")
        assert now is not None and now.value == {"stock": 4}

    _on_probe_sidecar(stack, scenario)


def test_an_insert_only_write_in_a_transaction_happens_once(stack: Stack) -> None:
    async def scenario(sidecar: DaprSidecar, key: str) -> None:
        await sidecar.transact([StateOp(f"{key}-marker", {"first": True}, insert_only=True)])

        with pytest.raises(Conflict) as clash:
            await sidecar.transact(
                [
                    StateOp(f"{key}-marker", {"first": False}, insert_only=True),
                    StateOp(f"{key}-effect", {"applied": "twice"}),
                ]
            )
        assert clash.value.code == "ETAG_MISMATCH"
        marker = await sidecar.get_state(f"{key}-marker")
        assert marker is not None and marker.value == {"first": True}
        assert await sidecar.get_state(f"{key}-effect") is None

    _on_probe_sidecar(stack, scenario)


def test_a_transaction_applies_its_operations_in_order(stack: Stack) -> None:
    """Two writes to one key in one transaction: the later one stays; a key deleted then written exists."""

    async def scenario(sidecar: DaprSidecar, key: str) -> None:
        await sidecar.save_state(f"{key}-other", {"old": True})
        await sidecar.transact(
            [
                StateOp(f"{key}-page", {"ids": ["a"]}),
                StateOp(f"{key}-page", {"ids": ["a", "b"]}),
                StateOp(f"{key}-other", None, delete=True),
                StateOp(f"{key}-other", {"new": True}),
            ]
        )
        page = await sidecar.get_state(f"{key}-page")
        assert page is not None and page.value == {"ids": ["a", "b"]}
        other = await sidecar.get_state(f"{key}-other")
        assert other is not None and other.value == {"new": True}

    _on_probe_sidecar(stack, scenario)


def test_transactions_taking_the_same_keys_in_opposite_orders_all_commit(stack: Stack) -> None:
    """A store that locks rows as it writes them (postgres) must not deadlock them (SQLSTATE 40P01, a 503)."""

    async def scenario(sidecar: DaprSidecar, key: str) -> None:
        keys = [f"{key}-{name}" for name in ("a", "b", "c")]

        async def write(round_: int, order: list[str]) -> None:
            await sidecar.transact([StateOp(each, {"round": round_}) for each in order])

        for round_ in range(15):
            await asyncio.gather(*(write(round_, keys if n % 2 else keys[::-1]) for n in range(8)))
        for each in keys:
            item = await sidecar.get_state(each)
            assert item is not None and item.value == {"round": 14}

    _on_probe_sidecar(stack, scenario)

"""catalog's use cases against its Dapr-state store on FakeSidecar: ETags, all-or-nothing, idempotency."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from apps.catalog import service
from apps.catalog.domain import (
    CreateProduct,
    IdempotencyKeyReused,
    OutOfStock,
    ProductNotFound,
    ReservationNotFound,
    ReservationReleased,
    ReservationStatus,
    SkuTaken,
)
from apps.catalog.domain.reservations import ReserveLine, ReserveStock
from apps.catalog.storage import DaprStateCatalogRepository
from servicekit import ValidationFailed
from servicekit.state_outbox import StateOutbox
from tests.unit.fakes import FakeSidecar, InterleavingSidecar

from .helpers import add_product, counts, doc, new_store, staged, unique_sku

pytestmark = pytest.mark.anyio


def reserve(order_id: str, *lines: tuple[str, int]) -> ReserveStock:
    return ReserveStock(order_id, [ReserveLine(product_id, quantity) for product_id, quantity in lines])


async def test_create_stores_the_product_its_sku_and_the_index_and_stages_created(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    sku = unique_sku()
    product = await service.create_product(CreateProduct(sku, "Lamp", Decimal("19.9"), 4), catalog=store)
    assert doc(sidecar, f"product:{product.id}") == {
        "id": product.id,
        "sku": sku,
        "name": "Lamp",
        "price": "19.90",
        "stock": 4,
        "reserved": 0,
    }
    assert doc(sidecar, f"sku:{sku}") == {"productId": product.id}
    assert sidecar.indexed("products-list") == [product.id]
    assert staged(sidecar) == [
        (
            "product.stock_changed",
            {
                "productId": product.id,
                "sku": sku,
                "stock": 4,
                "reserved": 0,
                "change": 4,
                "reason": "created",
                "orderId": None,
            },
        )
    ]
    assert await service.get_product(product.id, catalog=store) == product


async def test_a_taken_sku_is_refused_and_nothing_is_written(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    sku = unique_sku()
    first = await service.create_product(CreateProduct(sku, "One", Decimal(1), 1), catalog=store)
    keys = set(sidecar.state)
    with pytest.raises(SkuTaken) as caught:
        await service.create_product(CreateProduct(sku, "Two", Decimal(2), 2), catalog=store)
    assert (caught.value.code, caught.value.status) == ("SKU_TAKEN", 409)
    assert set(sidecar.state) == keys
    assert sidecar.indexed("products-list") == [first.id]
    assert len(staged(sidecar)) == 1


async def test_a_repeated_creation_answers_its_product_once_and_a_reused_key_is_refused(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    sku, key = unique_sku(), "create-once"
    first = await service.create_product(CreateProduct(sku, "One", Decimal(1), 1, key), catalog=store)
    again = await service.create_product(CreateProduct(sku, "One", Decimal(1), 1, key), catalog=store)
    assert again == first
    assert len(staged(sidecar)) == 1  # one product, one stock event
    with pytest.raises(SkuTaken):  # the SKU with another key is someone else's creation
        await service.create_product(CreateProduct(sku, "One", Decimal(1), 1, "other-key"), catalog=store)
    with pytest.raises(IdempotencyKeyReused):  # the key with another SKU is a client bug
        await service.create_product(CreateProduct(unique_sku(), "Two", Decimal(2), 2, key), catalog=store)
    assert sidecar.indexed("products-list") == [first.id]


async def test_concurrent_creates_with_one_sku_make_one_product() -> None:
    store, sidecar = new_store(InterleavingSidecar())
    sku = unique_sku()
    attempts = [service.create_product(CreateProduct(sku, f"N{i}", Decimal(1), 1), catalog=store) for i in range(8)]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    made = [r for r in results if not isinstance(r, BaseException)]
    assert len(made) == 1
    assert all(isinstance(r, SkuTaken) for r in results if isinstance(r, BaseException))
    assert sidecar.indexed("products-list") == [made[0].id]


async def test_a_catalog_indexed_under_the_one_key_index_keeps_its_order() -> None:
    store, sidecar = new_store(InterleavingSidecar())
    older = await add_product(store, stock=1)
    await sidecar.save_state("products-index", {"ids": ["gone", older.id]})  # as the one-key index left it
    sidecar.state.pop(("statestore", "products-list:head"))
    sidecar.state.pop(("statestore", "products-list:page:0"))
    assert (await service.list_products(5, 0, catalog=store)).total == 2
    newer = await add_product(store, stock=2)
    assert sidecar.indexed("products-list") == ["gone", older.id, newer.id]
    page = await service.list_products(5, 0, catalog=store)
    assert ([p.id for p in page.items], page.total) == ([older.id, newer.id], 3)


async def test_listing_pages_in_creation_order_with_the_total() -> None:
    store, _ = new_store(InterleavingSidecar())
    created = [await add_product(store, stock=i) for i in range(5)]
    ids = [p.id for p in created]
    first = await service.list_products(2, 0, catalog=store)
    assert ([p.id for p in first.items], first.total) == (ids[:2], 5)
    last = await service.list_products(2, 4, catalog=store)
    assert ([p.id for p in last.items], last.total) == (ids[4:], 5)
    beyond = await service.list_products(20, 9, catalog=store)
    assert (beyond.items, beyond.total) == ([], 5)


async def test_listing_an_empty_catalog(store: DaprStateCatalogRepository) -> None:
    page = await service.list_products(20, 0, catalog=store)
    assert (page.items, page.total) == ([], 0)


@pytest.mark.parametrize("product_id", ["missing", "a/b", "x" * 129, ""])
async def test_unknown_product_is_not_found(product_id: str, store: DaprStateCatalogRepository) -> None:
    with pytest.raises(ProductNotFound) as caught:
        await service.get_product(product_id, catalog=store)
    assert (caught.value.code, caught.value.status) == ("PRODUCT_NOT_FOUND", 404)


async def test_reserve_holds_stock_and_stages_one_event_per_product(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    a, b = await add_product(store, stock=5, price="2.50"), await add_product(store, stock=3, price="1.00")
    before = len(staged(sidecar))
    reserved = await service.reserve_stock(reserve("o-1", (a.id, 1), (b.id, 3), (a.id, 1)), catalog=store)
    assert reserved.created
    assert reserved.reservation.total == Decimal("8.00")
    assert doc(sidecar, "reservation:o-1") == {
        "orderId": "o-1",
        "status": "RESERVED",
        "items": [
            {"productId": a.id, "name": "A product", "unitPrice": "2.50", "quantity": 2},
            {"productId": b.id, "name": "A product", "unitPrice": "1.00", "quantity": 3},
        ],
        "total": "8.00",
    }
    assert counts(sidecar, a.id) == (3, 2)
    assert counts(sidecar, b.id) == (0, 3)
    assert staged(sidecar)[before:] == [
        (
            "product.stock_changed",
            {
                "productId": a.id,
                "sku": a.sku,
                "stock": 3,
                "reserved": 2,
                "change": -2,
                "reason": "reserved",
                "orderId": "o-1",
            },
        ),
        (
            "product.stock_changed",
            {
                "productId": b.id,
                "sku": b.sku,
                "stock": 0,
                "reserved": 3,
                "change": -3,
                "reason": "reserved",
                "orderId": "o-1",
            },
        ),
    ]


async def test_reserve_is_all_or_nothing(store: DaprStateCatalogRepository, sidecar: FakeSidecar) -> None:
    a, b = await add_product(store, stock=5), await add_product(store, stock=1)
    before = dict(sidecar.state)
    with pytest.raises(OutOfStock) as caught:
        await service.reserve_stock(reserve("o-2", (a.id, 2), (b.id, 2)), catalog=store)
    assert caught.value.details == {"productId": b.id, "requested": 2, "available": 1}
    with pytest.raises(ProductNotFound) as missing:
        await service.reserve_stock(reserve("o-2", (a.id, 2), ("nope", 1)), catalog=store)
    assert missing.value.details == {"productId": "nope"}
    assert sidecar.state == before
    assert doc(sidecar, "reservation:o-2") is None


async def test_invalid_lines_are_refused_before_any_read(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await service.reserve_stock(reserve("o-3", ("p", 0)), catalog=store)
    assert caught.value.code == "INVALID_QUANTITY"
    with pytest.raises(ProductNotFound):
        await service.reserve_stock(reserve("o-3", ("a/b", 1)), catalog=store)
    assert sidecar.state == {}


async def test_reserving_an_order_twice_returns_the_first_reservation_untouched(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    a = await add_product(store, stock=5)
    first = await service.reserve_stock(reserve("o-4", (a.id, 2)), catalog=store)
    before = dict(sidecar.state)
    again = await service.reserve_stock(reserve("o-4", (a.id, 4)), catalog=store)
    assert (again.created, again.reservation) == (False, first.reservation)
    assert sidecar.state == before


async def test_a_release_that_waited_behind_a_commit_gives_the_committed_units_back() -> None:
    """Seen under chaos: a release that read the reservation before the commit took the lock must read it again."""
    store, sidecar = new_store(InterleavingSidecar())
    a = await add_product(store, stock=5)
    await service.reserve_stock(reserve("o-race", (a.id, 2)), catalog=store)
    await asyncio.gather(
        service.commit_reservation("o-race", catalog=store), service.release_reservation("o-race", catalog=store)
    )
    assert (await service.get_reservation("o-race", catalog=store)).status is ReservationStatus.RELEASED
    assert counts(sidecar, a.id) == (5, 0)


async def test_commit_keeps_stock_drops_reserved_and_is_idempotent(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    a = await add_product(store, stock=5)
    await service.reserve_stock(reserve("o-5", (a.id, 2)), catalog=store)
    committed = await service.commit_reservation("o-5", catalog=store)
    assert committed.status is ReservationStatus.COMMITTED
    assert counts(sidecar, a.id) == (3, 0)
    assert staged(sidecar)[-1][1] == {
        "productId": a.id,
        "sku": a.sku,
        "stock": 3,
        "reserved": 0,
        "change": 0,
        "reason": "committed",
        "orderId": "o-5",
    }
    before = dict(sidecar.state)
    assert await service.commit_reservation("o-5", catalog=store) == committed
    assert sidecar.state == before


async def test_release_from_reserved_restores_stock_once(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    a = await add_product(store, stock=5)
    await service.reserve_stock(reserve("o-6", (a.id, 4)), catalog=store)
    released = await service.release_reservation("o-6", catalog=store)
    assert released.status is ReservationStatus.RELEASED
    assert counts(sidecar, a.id) == (5, 0)
    assert (staged(sidecar)[-1][1]["change"], staged(sidecar)[-1][1]["reason"]) == (4, "released")
    before = dict(sidecar.state)
    assert await service.release_reservation("o-6", catalog=store) == released
    assert sidecar.state == before
    with pytest.raises(ReservationReleased) as caught:
        await service.commit_reservation("o-6", catalog=store)
    assert (caught.value.code, caught.value.status) == ("RESERVATION_RELEASED", 409)


async def test_release_after_commit_returns_the_goods_to_stock(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    a = await add_product(store, stock=5)
    await service.reserve_stock(reserve("o-7", (a.id, 3)), catalog=store)
    await service.commit_reservation("o-7", catalog=store)
    await service.release_reservation("o-7", catalog=store)
    await service.release_reservation("o-7", catalog=store)
    assert counts(sidecar, a.id) == (5, 0)
    assert (await service.get_reservation("o-7", catalog=store)).status is ReservationStatus.RELEASED


@pytest.mark.parametrize("order_id", ["unknown", "a/b"])
async def test_unknown_reservations_are_not_found(order_id: str, store: DaprStateCatalogRepository) -> None:
    for use_case in (service.get_reservation, service.commit_reservation):
        with pytest.raises(ReservationNotFound) as caught:
            await use_case(order_id, catalog=store)
        assert (caught.value.code, caught.value.status) == ("RESERVATION_NOT_FOUND", 404)


async def test_an_id_that_cannot_be_a_key_is_never_released(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    with pytest.raises(ReservationNotFound):
        await service.release_reservation("a/b", catalog=store)
    assert sidecar.state == {}


async def test_releasing_an_unknown_order_leaves_a_tombstone_that_refuses_a_late_reserve(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    a = await add_product(store, stock=5)
    events_before = len(staged(sidecar))
    released = await service.release_reservation("never-reserved", catalog=store)
    assert (released.status, released.items) == (ReservationStatus.RELEASED, ())
    assert doc(sidecar, "reservation:never-reserved")["status"] == "RELEASED"
    assert len(staged(sidecar)) == events_before  # no stock moved, nothing to announce
    assert await service.release_reservation("never-reserved", catalog=store) == released
    with pytest.raises(ReservationReleased) as caught:
        await service.reserve_stock(reserve("never-reserved", (a.id, 2)), catalog=store)
    assert (caught.value.code, caught.value.status) == ("RESERVATION_RELEASED", 409)
    with pytest.raises(ReservationReleased):
        await service.commit_reservation("never-reserved", catalog=store)
    assert counts(sidecar, a.id) == (5, 0)


async def test_a_released_reservation_is_never_reserved_again(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    a = await add_product(store, stock=5)
    await service.reserve_stock(reserve("o-9", (a.id, 2)), catalog=store)
    await service.release_reservation("o-9", catalog=store)
    with pytest.raises(ReservationReleased):
        await service.reserve_stock(reserve("o-9", (a.id, 2)), catalog=store)
    assert counts(sidecar, a.id) == (5, 0)


@pytest.mark.parametrize("release_first", [True, False])
async def test_a_release_racing_the_reserve_of_its_order_always_ends_released(release_first: bool) -> None:
    store, sidecar = new_store(InterleavingSidecar())
    a = await add_product(store, stock=5)
    reserving = service.reserve_stock(reserve("raced", (a.id, 3)), catalog=store)
    releasing = service.release_reservation("raced", catalog=store)
    calls = (releasing, reserving) if release_first else (reserving, releasing)
    await asyncio.gather(*calls, return_exceptions=True)
    assert (await service.get_reservation("raced", catalog=store)).status is ReservationStatus.RELEASED
    assert counts(sidecar, a.id) == (5, 0)


async def test_concurrent_reservations_never_oversell() -> None:
    store, sidecar = new_store(InterleavingSidecar())
    a = await add_product(store, stock=5)
    attempts = [service.reserve_stock(reserve(f"race-{i}", (a.id, 1)), catalog=store) for i in range(20)]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 5
    assert all(isinstance(r, OutOfStock) for r in lost), lost
    assert counts(sidecar, a.id) == (0, 5)
    reservations = [key for (_, key) in sidecar.state if key.startswith("reservation:")]
    assert len(reservations) == 5
    stocks = [p["stock"] for topic, p in staged(sidecar) if p["reason"] == "reserved"]
    assert sorted(stocks) == [0, 1, 2, 3, 4]


async def test_concurrent_reservations_of_one_order_reserve_once() -> None:
    store, sidecar = new_store(InterleavingSidecar())
    a = await add_product(store, stock=5)
    same = reserve("twice", (a.id, 2))
    results = await asyncio.gather(*(service.reserve_stock(same, catalog=store) for _ in range(6)))
    assert sorted(r.created for r in results) == [False] * 5 + [True]
    assert {r.reservation for r in results} == {results[0].reservation}
    assert counts(sidecar, a.id) == (3, 2)


async def test_staged_events_reach_the_broker_through_the_relay(
    store: DaprStateCatalogRepository, sidecar: FakeSidecar
) -> None:
    a = await add_product(store, stock=2)
    await service.reserve_stock(reserve("o-8", (a.id, 2)), catalog=store)
    assert await StateOutbox(sidecar).publish_pending() == 2
    assert sidecar.topics() == ["product.stock_changed", "product.stock_changed"]
    assert [e.payload["reason"] for _, e in sidecar.published] == ["created", "reserved"]
    assert staged(sidecar) == []

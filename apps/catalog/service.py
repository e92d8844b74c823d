"""catalog's use cases; every dependency arrives as a keyword argument.

Each change is one read-modify-write of the state store: read the values with their ETags, let the
domain decide, write everything (plus the staged events) in one transaction, and start over when
somebody else wrote first. That is what keeps concurrent reservations from overselling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from apps.catalog import domain
from apps.catalog.domain import (
    CreateProduct,
    IdempotencyKeyReused,
    Product,
    ProductNotFound,
    ReservationNotFound,
    ReservationReleased,
    ReservationStatus,
    SkuTaken,
    reservations,
    valid_id,
)
from apps.catalog.domain.reservations import Reservation, ReserveStock, StockMoved
from apps.catalog.storage import (
    CatalogRepository,
    Versioned,
    claim_sku,
    put_product,
    put_reservation,
)
from servicekit.conflicts import retry_on_conflict


@dataclass(frozen=True)
class Page:
    items: list[Product]
    total: int


@dataclass(frozen=True)
class Reserved:
    reservation: Reservation
    created: bool
    """False when the order already had a reservation, which is returned unchanged."""


async def create_product(command: CreateProduct, *, catalog: CatalogRepository) -> Product:
    """Put a product on sale, claim its SKU and append it to the index, all in one transaction."""
    product, created = domain.new_product(command)

    async def attempt() -> Product:
        owner = await catalog.sku_owner(product.sku)
        if owner is not None:
            if owner == product.id:  # the same creation repeated (a sidecar's retry): its product
                return await get_product(owner, catalog=catalog)
            raise SkuTaken("A product with this SKU already exists.", details={"sku": product.sku})
        if command.idempotency_key is not None and (await catalog.products([product.id]))[0] is not None:
            message = "This Idempotency-Key already created another product."
            raise IdempotencyKeyReused(message, details={"productId": product.id})
        operations = [
            put_product(product, None),
            claim_sku(product.sku, product.id),
            *await catalog.indexed(product.id),
        ]
        await catalog.save(operations, [created])
        return product

    # A clash on the SKU claim comes back as ETAG_MISMATCH too; the next attempt then sees the SKU taken.
    return await retry_on_conflict(attempt)


async def list_products(limit: int, offset: int, *, catalog: CatalogRepository) -> Page:
    """One page of products in creation order, and how many there are."""
    ids, total = await catalog.index_page(offset=offset, limit=limit)
    found = await catalog.products(ids)
    return Page([item.value for item in found if item is not None], total)


async def get_product(product_id: str, *, catalog: CatalogRepository) -> Product:
    found = await catalog.product(product_id) if valid_id(product_id) else None
    if found is None:
        raise ProductNotFound("No such product.", details={"productId": product_id})
    return found.value


async def reserve_stock(command: ReserveStock, *, catalog: CatalogRepository) -> Reserved:
    """Reserve every line of an order or none; an order that already has a reservation gets it back.

    A released order id stays released: a reserve arriving after its release (a late retry, a timed-out
    placement the orders reaper already closed) is refused with RESERVATION_RELEASED.
    """
    quantities = reservations.merge_lines(command.lines)
    unknown = next((product_id for product_id in quantities if not valid_id(product_id)), None)
    if unknown is not None:
        raise ProductNotFound("No such product.", details={"productId": unknown})

    async def attempt() -> Reserved:
        existing = await catalog.reservation(command.order_id)
        if existing is not None and existing.value.status is ReservationStatus.RELEASED:
            raise ReservationReleased("This order's reservation was released.", details={"orderId": command.order_id})
        if existing is not None:
            return Reserved(existing.value, created=False)
        products = await _products(catalog, list(quantities))
        moved = reservations.reserve(command.order_id, quantities, {pid: p.value for pid, p in products.items()})
        await _save(catalog, moved, products, reservation_etag=None)
        return Reserved(moved.reservation, created=True)

    async with catalog.writing(quantities):
        return await retry_on_conflict(attempt)


async def commit_reservation(order_id: str, *, catalog: CatalogRepository) -> Reservation:
    """Mark a reservation COMMITTED (the order was paid); committing twice changes nothing."""
    return await _advance(order_id, ReservationStatus.COMMITTED, reservations.commit, catalog=catalog)


async def release_reservation(order_id: str, *, catalog: CatalogRepository) -> Reservation:
    """Give a reservation's units back to stock; releasing twice changes nothing.

    Releasing an order that never reserved leaves a RELEASED tombstone with no lines, so release is
    terminal whichever of release and a late reserve arrives first.
    """
    return await _advance(order_id, ReservationStatus.RELEASED, reservations.release, catalog=catalog, tombstone=True)


async def get_reservation(order_id: str, *, catalog: CatalogRepository) -> Reservation:
    return (await _reservation(catalog, order_id)).value


Step = Callable[[Reservation, dict[str, Product]], StockMoved]


async def _advance(
    order_id: str,
    target: ReservationStatus,
    step: Step,
    *,
    catalog: CatalogRepository,
    tombstone: bool = False,
) -> Reservation:
    """Move a reservation to `target`; with `tombstone`, an unknown (valid) order id gets a bare record instead."""

    async def attempt() -> Reservation:
        found = await catalog.reservation(order_id) if valid_id(order_id) else None
        if found is None and tombstone and valid_id(order_id):
            marker = Reservation(order_id, target, ())
            await catalog.save([put_reservation(marker, None)], [])  # insert-only: a racing reserve clashes
            return marker
        if found is None:
            raise ReservationNotFound("No such reservation.", details={"orderId": order_id})
        if found.value.status is target:
            return found.value
        products = await _products(catalog, [line.product_id for line in found.value.items])
        moved = step(found.value, {pid: p.value for pid, p in products.items()})
        await _save(catalog, moved, products, reservation_etag=found.etag)
        return moved.reservation

    held = await catalog.reservation(order_id) if valid_id(order_id) else None
    async with catalog.writing([line.product_id for line in held.value.items] if held else []):
        return await retry_on_conflict(attempt)


async def _reservation(catalog: CatalogRepository, order_id: str) -> Versioned[Reservation]:
    found = await catalog.reservation(order_id) if valid_id(order_id) else None
    if found is None:
        raise ReservationNotFound("No such reservation.", details={"orderId": order_id})
    return found


async def _products(catalog: CatalogRepository, product_ids: list[str]) -> dict[str, Versioned[Product]]:
    read: dict[str, Versioned[Product]] = {}
    for product_id, item in zip(product_ids, await catalog.products(product_ids), strict=True):
        if item is None:
            raise ProductNotFound("No such product.", details={"productId": product_id})
        read[product_id] = item
    return read


async def _save(
    catalog: CatalogRepository,
    moved: StockMoved,
    read: dict[str, Versioned[Product]],
    *,
    reservation_etag: str | None,
) -> None:
    """Write each product under the ETag it was read with, and the reservation, in one transaction."""
    operations = [put_product(product, read[product.id].etag) for product in moved.products]
    operations.append(put_reservation(moved.reservation, reservation_etag))
    await catalog.save(operations, moved.events)

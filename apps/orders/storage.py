"""orders' database: orders and their lines, applied event ids, and the outbox, in one unit of work.

The use cases see only the `UnitOfWork` and `OrderRepository` protocols; `SqlUnitOfWork` is the real one.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Protocol

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    false,
    func,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apps.orders.domain import PUBLIC_STATUSES, Order, OrderLine, OrderStatus
from servicekit.events import EventEnvelope
from servicekit.outbox import OutboxRelay, OutboxUnitOfWork, outbox_table

metadata = MetaData()
orders = Table(
    "orders",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(64), nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("total_cents", Integer, nullable=False),
    Column("payment_token", String(64), nullable=False),
    Column("payment_id", String(64), nullable=True),
    Column("cancel_reason", String(64), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
    Column("request_hash", String(64), nullable=True),
    Column("settlement_due", Boolean, nullable=False, server_default=false(), index=True),
)
order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(32), ForeignKey("orders.id"), primary_key=True),
    Column("product_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("unit_price_cents", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),
)
processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", String(64), primary_key=True),
    Column("topic", String(200), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, index=True),
)
"""Applied event ids, forgotten after DEDUPE_HORIZON_SECONDS (servicekit.horizons) by the outbox relay."""
outbox = outbox_table(metadata, failures=True)


class OrderRepository(Protocol):
    """The orders and their lines; every write but `add` is conditional on the status the caller expects."""

    async def add(self, order: Order) -> bool: ...
    async def get(self, order_id: str) -> Order | None: ...
    async def page(self, *, user_id: str | None, limit: int, offset: int) -> tuple[list[Order], int]: ...
    async def overdue(self, status: OrderStatus, now: datetime, limit: int) -> list[Order]: ...
    async def unsettled(self, limit: int) -> list[Order]: ...
    async def complete(self, order: Order) -> bool: ...
    async def transition(self, order: Order, *, expected: OrderStatus) -> bool: ...
    async def settled(self, order_id: str, status: OrderStatus) -> None: ...


class UnitOfWork(Protocol):
    """One transaction: orders, applied event ids and the events recorded commit together or not at all."""

    @property
    def orders(self) -> OrderRepository: ...

    async def __aenter__(self) -> UnitOfWork: ...
    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    async def mark_processed(self, event_id: str, topic: str, now: datetime) -> bool: ...
    async def record(self, topic: str, event: EventEnvelope) -> None: ...
    async def commit(self) -> None: ...


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def _amount(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


class SqlOrderRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def add(self, order: Order) -> bool:
        """Insert a new order and its lines; False when an order with its id exists already."""
        try:
            async with self.connection.begin_nested():
                await self.connection.execute(
                    orders.insert().values(
                        id=order.id,
                        user_id=order.user_id,
                        status=order.status.value,
                        total_cents=_cents(order.total),
                        payment_token=order.payment_token,
                        created_at=order.created_at,
                        updated_at=order.updated_at,
                        expires_at=order.expires_at,
                        request_hash=order.request_hash,
                        settlement_due=order.settlement_due,
                    )
                )
        except IntegrityError:
            return False
        await self._put_lines(order)
        return True

    async def _put_lines(self, order: Order) -> None:
        await self.connection.execute(delete(order_lines).where(order_lines.c.order_id == order.id))
        await self.connection.execute(
            order_lines.insert(),
            [
                {
                    "order_id": order.id,
                    "product_id": x.product_id,
                    "name": x.name,
                    "unit_price_cents": _cents(x.unit_price),
                    "quantity": x.quantity,
                }
                for x in order.lines
            ],
        )

    async def get(self, order_id: str) -> Order | None:
        found = await self._load(select(orders).where(orders.c.id == order_id))
        return found[0] if found else None

    async def page(self, *, user_id: str | None, limit: int, offset: int) -> tuple[list[Order], int]:
        """One page of orders in a public status (PLACING and FAILED ones are not orders to a reader)."""
        public = orders.c.status.in_([status.value for status in PUBLIC_STATUSES])
        query = select(orders).where(public).order_by(orders.c.created_at.desc(), orders.c.id)
        counting = select(func.count()).select_from(orders).where(public)
        if user_id is not None:
            query, counting = query.where(orders.c.user_id == user_id), counting.where(orders.c.user_id == user_id)
        total = (await self.connection.execute(counting)).scalar_one()
        return await self._load(query.limit(limit).offset(offset)), int(total)

    async def overdue(self, status: OrderStatus, now: datetime, limit: int) -> list[Order]:
        """Orders in `status` past their deadline (PLACING: the placing deadline; PENDING_PAYMENT: payment)."""
        due = select(orders).where(orders.c.status == status.value, orders.c.expires_at < now)
        return await self._load(due.order_by(orders.c.expires_at).limit(limit))

    async def unsettled(self, limit: int) -> list[Order]:
        """Closed orders whose reservation catalog has not yet settled, oldest change first."""
        due = select(orders).where(orders.c.settlement_due == true()).order_by(orders.c.updated_at)
        return await self._load(due.limit(limit))

    async def complete(self, order: Order) -> bool:
        """Store a PLACING order as placed (status, total, deadline, lines); False when it moved meanwhile."""
        result = await self.connection.execute(
            update(orders)
            .where(orders.c.id == order.id, orders.c.status == OrderStatus.PLACING.value)
            .values(
                status=order.status.value,
                total_cents=_cents(order.total),
                updated_at=order.updated_at,
                expires_at=order.expires_at,
            )
        )
        if result.rowcount != 1:
            return False
        await self._put_lines(order)
        return True

    async def transition(self, order: Order, *, expected: OrderStatus) -> bool:
        """Save the order's new state only if it is still in `expected`; False when it moved meanwhile."""
        result = await self.connection.execute(
            update(orders)
            .where(orders.c.id == order.id, orders.c.status == expected.value)
            .values(
                status=order.status.value,
                payment_id=order.payment_id,
                cancel_reason=order.cancel_reason,
                updated_at=order.updated_at,
                settlement_due=order.settlement_due,
            )
        )
        return result.rowcount == 1

    async def settled(self, order_id: str, status: OrderStatus) -> None:
        """Note that catalog settled the order's reservation for `status` (unless it moved on since)."""
        await self.connection.execute(
            update(orders).where(orders.c.id == order_id, orders.c.status == status.value).values(settlement_due=False)
        )

    async def _load(self, query: object) -> list[Order]:
        rows = (await self.connection.execute(query)).all()  # type: ignore[call-overload]
        if not rows:
            return []
        ids = [row.id for row in rows]
        line_rows = (await self.connection.execute(select(order_lines).where(order_lines.c.order_id.in_(ids)))).all()
        lines: dict[str, list[OrderLine]] = {}
        for x in line_rows:
            lines.setdefault(x.order_id, []).append(
                OrderLine(x.product_id, x.name, _amount(x.unit_price_cents), x.quantity)
            )
        return [
            Order(
                row.id,
                row.user_id,
                OrderStatus(row.status),
                _amount(row.total_cents),
                tuple(lines.get(row.id, [])),
                row.payment_token,
                row.created_at,
                row.updated_at,
                row.expires_at,
                row.payment_id,
                row.cancel_reason,
                row.request_hash,
                bool(row.settlement_due),
            )
            for row in rows
        ]


class SqlUnitOfWork(OutboxUnitOfWork):
    """One transaction over orders, applied event ids and the outbox."""

    orders: SqlOrderRepository

    def __init__(self, engine: AsyncEngine, relay: OutboxRelay | None = None) -> None:
        super().__init__(engine, outbox, relay)

    def open_repositories(self, connection: AsyncConnection) -> None:
        self.orders = SqlOrderRepository(connection)

    async def mark_processed(self, event_id: str, topic: str, now: datetime) -> bool:
        """Remember an applied event; False when it was applied before (a redelivery)."""
        try:
            async with self.connection.begin_nested():
                await self.connection.execute(
                    processed_events.insert().values(event_id=event_id, topic=topic, processed_at=now)
                )
        except IntegrityError:
            return False
        return True

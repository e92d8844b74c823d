"""gateway's event edge: catalog's stock events make the cached copies of that product and of the list out of date.

A redelivered or replayed event only marks them again, later: the copies are read afresh once more, nothing else.
"""

from __future__ import annotations

from apps.gateway.cache import product_changed
from apps.gateway.deps import GatewayServices
from servicekit import EventEnvelope
from servicekit.consumer import Consumer
from servicekit.payloads import Id, Payload, parse_payload

consumer: Consumer[GatewayServices] = Consumer("gateway")


class StockChanged(Payload):
    """`product.stock_changed`, also published when a product is created (docs/events.md)."""

    product_id: Id


@consumer.on("product.stock_changed")
async def stock_changed(event: EventEnvelope, services: GatewayServices) -> None:
    payload = parse_payload(StockChanged, event)
    await product_changed(payload.product_id, reads=services.reads)

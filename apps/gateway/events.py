"""gateway's event edge: every business event goes to the live feed; catalog's stock events also make the
cached copies of that product and of the list out of date.

A feed delivery never fails and never waits on a client (the hub only queues): with nobody listening it is
answered SUCCESS all the same. The hub shows an event id once, so a redelivered event (after the cache
failed to take a change mark, say) is not shown twice; a redelivered or replayed stock event only marks the
copies again, later: they are read afresh once more, nothing else.
"""

from __future__ import annotations

from apps.gateway.cache import product_changed
from apps.gateway.deps import GatewayServices
from apps.gateway.feed import FEED_TOPICS, feed_item
from servicekit import EventEnvelope
from servicekit.consumer import Consumer, Handler
from servicekit.payloads import Id, Payload, parse_payload

STOCK_CHANGED = "product.stock_changed"

consumer: Consumer[GatewayServices] = Consumer("gateway")


class StockChanged(Payload):
    """`product.stock_changed`, also published when a product is created (docs/events.md)."""

    product_id: Id


def to_feed(topic: str) -> Handler[GatewayServices]:
    """The handler of a topic the gateway reads only for its feed."""

    async def relay(event: EventEnvelope, services: GatewayServices) -> bool:
        return services.feed.publish(feed_item(topic, event))

    relay.__name__ = f"relay_{topic.replace('.', '_')}"
    return relay


for _topic in FEED_TOPICS:
    if _topic != STOCK_CHANGED:
        consumer.on(_topic)(to_feed(_topic))


@consumer.on(STOCK_CHANGED)
async def stock_changed(event: EventEnvelope, services: GatewayServices) -> None:
    services.feed.publish(feed_item(STOCK_CHANGED, event))  # first: a retry of the cache part shows it once
    payload = parse_payload(StockChanged, event)
    await product_changed(payload.product_id, reads=services.reads)

"""orders' errors, each a kit error with its own code: raised by the model (domain.py) and the use cases."""

from __future__ import annotations

from servicekit import Conflict, DependencyUnavailable, NotFound, ValidationFailed


class InvalidItems(ValidationFailed):
    """Raised when an order has no lines or more than MAX_LINES."""

    default_code = "INVALID_ITEMS"


class InvalidQuantity(ValidationFailed):
    """Raised when a line's quantity is out of range (`details.productId`)."""

    default_code = "INVALID_QUANTITY"


class InvalidIdempotencyKey(ValidationFailed):
    """Raised when an Idempotency-Key sent straight to orders is not 1 to 128 printable ASCII characters."""

    default_code = "INVALID_IDEMPOTENCY_KEY"


class IdempotencyKeyReused(ValidationFailed):
    """Raised when an Idempotency-Key comes back with another body than the order it placed."""

    default_code = "IDEMPOTENCY_KEY_REUSED"


class OrderNotPlaced(Conflict):
    """Raised when a key's order was refused or timed out while placing: a new order needs a new key."""

    default_code = "ORDER_NOT_PLACED"


class OrderPlacing(DependencyUnavailable):
    """Raised when a repeat finds the order still being placed by another attempt; try again with the same key."""

    default_code = "ORDER_PLACING"


class PlaceTimeout(DependencyUnavailable):
    """Raised when placing an order took longer than its budget; send it again with the same key."""

    default_code = "PLACE_TIMEOUT"


class OrderBusy(Conflict):
    """Raised when an order kept changing under a placement or a cancel; try again."""

    default_code = "ORDER_BUSY"


class OrderNotFound(NotFound):
    """Raised when no order has the id asked for, or it is not the caller's (placing and failed orders are hidden)."""

    default_code = "ORDER_NOT_FOUND"


class IllegalTransition(Conflict):
    """Raised when an order is asked to move where its lifecycle does not lead (an expired order confirmed, ...)."""

    default_code = "ILLEGAL_TRANSITION"


class OrderNotCancellable(IllegalTransition):
    """Raised when a cancel reaches an order that is no longer pending or confirmed."""

    default_code = "ORDER_NOT_CANCELLABLE"


class InvalidEvent(ValidationFailed):
    """Raised when a payment event has no `orderId`: the event is dropped to the dead letters."""

    default_code = "INVALID_EVENT"


class UnknownOrder(ValidationFailed):
    """Raised when a payment event names an order orders does not have: the event is dropped to the dead letters."""

    default_code = "UNKNOWN_ORDER"

"""What each event tells its user, in plain words."""

from __future__ import annotations

from decimal import Decimal

_CANCEL_REASONS = {
    "CUSTOMER_CANCELLED": "cancelled at your request",
    "ADMIN_CANCELLED": "cancelled by an administrator",
}


def _short(order_id: str) -> str:
    return order_id[:8]


def words(code: str) -> str:
    """`INSUFFICIENT_FUNDS` -> `insufficient funds`."""
    return code.replace("_", " ").strip().lower()


def cancel_reason(code: str) -> str:
    # An order is cancelled by someone, or by its payment's failure: every other code is a decline reason.
    return _CANCEL_REASONS.get(code) or f"payment declined ({words(code)})"


def welcome(name: str) -> str:
    return f"Welcome to Junction, {name}!"


def order_received(order_id: str, total: Decimal) -> str:
    return f"Order {_short(order_id)} received, total {total:.2f}; waiting for payment."


def order_confirmed(order_id: str, total: Decimal) -> str:
    return f"Order {_short(order_id)} confirmed, total {total:.2f}."


def order_cancelled(order_id: str, reason: str) -> str:
    return f"Order {_short(order_id)} cancelled: {cancel_reason(reason)}."


def order_expired(order_id: str) -> str:
    return f"Order {_short(order_id)} expired unpaid; the items were released."


def payment_received(order_id: str, amount: Decimal) -> str:
    return f"Payment of {amount:.2f} for order {_short(order_id)} received."


def payment_declined(order_id: str, reason: str) -> str:
    return f"Payment for order {_short(order_id)} was declined: {words(reason)}."


def tenant_ready(name: str, subdomain: str, tables: int) -> str:
    return f"School {name} ({subdomain}) is ready: {tables} tables created."


def tenant_failed(name: str, subdomain: str, reason: str) -> str:
    return f"School {name} ({subdomain}) could not be set up: {reason}."

"""What every Junction app shares: settings, sidecar client, events, errors, envelope, health."""

from servicekit.app import create_service_app, create_sidecar_app
from servicekit.context import current_request_id
from servicekit.envelope import ok
from servicekit.errors import (
    BadRequest,
    Conflict,
    DependencyUnavailable,
    Forbidden,
    JunctionError,
    NotFound,
    OperationFailed,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from servicekit.events import Delivery, EventEnvelope, UnreadableEvent, new_event, read_envelope
from servicekit.health import ReadinessCheck
from servicekit.logs import configure_logging
from servicekit.settings import ServiceSettings
from servicekit.sidecar import DaprSidecar, SidecarClient, StateItem

__all__ = [
    "BadRequest",
    "Conflict",
    "DaprSidecar",
    "Delivery",
    "DependencyUnavailable",
    "EventEnvelope",
    "Forbidden",
    "JunctionError",
    "NotFound",
    "OperationFailed",
    "PayloadTooLarge",
    "RateLimited",
    "ReadinessCheck",
    "ServiceSettings",
    "SidecarClient",
    "StateItem",
    "Unauthorized",
    "UnreadableEvent",
    "ValidationFailed",
    "configure_logging",
    "create_service_app",
    "create_sidecar_app",
    "current_request_id",
    "new_event",
    "ok",
    "read_envelope",
]

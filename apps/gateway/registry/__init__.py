"""The gateway's service registry: the model (`domain`) and the task that keeps it fresh (`refresher`)."""

from apps.gateway.registry.domain import DOWN_AFTER_FAILURES, ServiceRecord, ServiceRegistry

__all__ = ["DOWN_AFTER_FAILURES", "ServiceRecord", "ServiceRegistry"]

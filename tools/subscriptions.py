"""The declared subscriptions (components/common/subscriptions.yaml), read the way daprd reads them.

daprd gives a sidecar the Subscription resources (dapr.io/v2alpha1) whose `scopes` name its app id; the
janitor and the policy tests need the same answer: which app reads which topic, on which route, and
where its failures go.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIPTIONS_FILE = ROOT / "components" / "common" / "subscriptions.yaml"
API_VERSION = "dapr.io/v2alpha1"
KIND = "Subscription"


@dataclass(frozen=True)
class DeclaredSubscription:
    """One Subscription resource as one scoped app's sidecar sees it."""

    name: str
    app_id: str
    pubsub: str
    topic: str
    route: str
    """The default route: the one path every event of the topic is delivered to."""
    dead_letter_topic: str | None
    bulk: bool
    rules: tuple[Any, ...] = ()
    """Routing rules by CEL match, which Junction does not use: the consumer picks the handler itself."""


def _declared(resource: dict[str, Any]) -> list[DeclaredSubscription]:
    name = str(resource["metadata"]["name"])
    if resource.get("apiVersion") != API_VERSION:
        raise ValueError(f"subscription {name} is not {API_VERSION}")
    scopes = resource.get("scopes") or []
    if not scopes:
        raise ValueError(f"subscription {name} names no app in `scopes`: every sidecar would take it")
    spec = resource["spec"]
    routes = spec.get("routes") or {}
    return [
        DeclaredSubscription(
            name=name,
            app_id=str(app_id),
            pubsub=str(spec["pubsubname"]),
            topic=str(spec["topic"]),
            route=str(routes.get("default", "")),
            dead_letter_topic=spec.get("deadLetterTopic") or None,
            bulk=bool((spec.get("bulkSubscribe") or {}).get("enabled", False)),
            rules=tuple(routes.get("rules") or ()),
        )
        for app_id in scopes
    ]


def load_subscriptions(path: Path = SUBSCRIPTIONS_FILE) -> list[DeclaredSubscription]:
    """Every Subscription of the file, once per app it is scoped to, in file order."""
    declared: list[DeclaredSubscription] = []
    for resource in yaml.safe_load_all(path.read_text()):
        if isinstance(resource, dict) and resource.get("kind") == KIND:
            declared.extend(_declared(resource))
    return declared


def subscribed_topics(app_id: str, path: Path = SUBSCRIPTIONS_FILE) -> list[str]:
    """The topics `app_id`'s sidecar subscribes for it."""
    return [subscription.topic for subscription in load_subscriptions(path) if subscription.app_id == app_id]

"""The declared subscriptions (components/common/subscriptions.yaml) against the apps' handlers.

daprd delivers what that file declares, so a slip there fails quietly on the stack: a topic nobody
handles is dropped, a handler nobody subscribed is never called, a route naming another topic runs that
topic's handler, a programmatic subscription replaces the declared one. Each fails here instead. The
topic scopes of every profile are held to the same file in test_mesh_policies.py.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from servicekit.consumer import DEAD_LETTER_TOPIC, Consumer, dead_letter_topic_of, route_of
from tools.subscriptions import API_VERSION, SUBSCRIPTIONS_FILE, DeclaredSubscription, load_subscriptions

ROOT = Path(__file__).resolve().parents[2]
APPS = [str(app["appID"]) for app in yaml.safe_load((ROOT / "dapr.yaml").read_text())["apps"]]
RESOURCES = [doc for doc in yaml.safe_load_all(SUBSCRIPTIONS_FILE.read_text()) if doc is not None]
DECLARED = load_subscriptions()
CONSUMERS: dict[str, Consumer[Any]] = {
    app: importlib.import_module(f"apps.{app}.events").consumer
    for app in APPS
    if (ROOT / "apps" / app / "events.py").exists()
}
"""Every app with an event edge, by app id."""
DEAD_LETTERS = "admin"
"""The app that reads every dead-letter topic."""
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
"""A Kubernetes object name (RFC 1123 label), so the same file applies to a cluster."""
TOKEN = "subscriptions-test-token"


def declared_by(app_id: str) -> list[DeclaredSubscription]:
    return [subscription for subscription in DECLARED if subscription.app_id == app_id]


@pytest.fixture(scope="module")
def apps() -> dict[str, FastAPI]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("APP_API_TOKEN", TOKEN)
        return {app_id: importlib.import_module(f"apps.{app_id}.main").create_app() for app_id in APPS}


def post_route(app: FastAPI, path: str) -> tuple[str, dict[str, str]]:
    """The template of the route serving `POST path`, and its parameters (from the routers: OpenAPI leaves it out)."""
    routers: list[APIRouter] = [app.router]
    while routers:
        for route in routers.pop().routes:
            if isinstance(route, APIRoute) and "POST" in (route.methods or ()):
                if matched := route.path_regex.fullmatch(path):
                    return route.path, matched.groupdict()
            elif original := getattr(route, "original_router", None):  # an included router (FastAPI 0.16x)
                routers.append(original)
    raise AssertionError(f"nothing serves POST {path}")


# ---- the file as daprd reads it ---------------------------------------------------------------
def test_every_resource_is_a_subscription_of_one_app_of_the_run_file() -> None:
    assert RESOURCES, "no subscriptions declared"
    for resource in RESOURCES:
        name = resource["metadata"]["name"]
        assert (resource["apiVersion"], resource["kind"]) == (API_VERSION, "Subscription"), name
        # One app each: an unscoped subscription would reach every sidecar, the e2e probe's included.
        assert len(resource["scopes"]) == 1 and resource["scopes"][0] in APPS, name


def test_names_are_unique_and_say_whose_subscription_of_which_topic() -> None:
    """daprd refuses a file with a name twice (before it applies scopes), so names carry the app id."""
    names = [subscription.name for subscription in DECLARED]
    assert len(names) == len(set(names))
    for subscription in DECLARED:
        expected = f"{subscription.app_id}-{subscription.topic}".replace(".", "-").replace("_", "-")
        assert subscription.name == expected and NAME.match(expected) and len(expected) <= 63


def test_an_app_subscribes_a_topic_once() -> None:
    pairs = [(subscription.app_id, subscription.topic) for subscription in DECLARED]
    assert len(pairs) == len(set(pairs))


def test_each_event_goes_one_at_a_time_to_one_route_of_the_apps_own_pubsub(apps: dict[str, FastAPI]) -> None:
    """No bulkSubscribe (a handler answers for one event) and no CEL rules (the consumer picks the handler)."""
    for subscription in DECLARED:
        assert subscription.pubsub == apps[subscription.app_id].state.settings.pubsub_name, subscription.name
        assert subscription.route.startswith("/") and not subscription.rules, subscription.name
        assert subscription.bulk is False, subscription.name


# ---- against the handlers ---------------------------------------------------------------------
def test_only_the_consumers_and_the_dead_letter_intake_subscribe() -> None:
    assert {subscription.app_id for subscription in DECLARED} == {*CONSUMERS, DEAD_LETTERS}


@pytest.mark.parametrize("app_id", sorted(CONSUMERS))
def test_a_consumer_subscribes_exactly_the_topics_it_handles_and_its_replays(app_id: str) -> None:
    assert sorted(subscription.topic for subscription in declared_by(app_id)) == sorted(CONSUMERS[app_id].topics())


@pytest.mark.parametrize("app_id", sorted(CONSUMERS))
def test_a_consumers_events_reach_their_topics_handler_and_fail_to_its_own_dead_letter_topic(
    app_id: str, apps: dict[str, FastAPI]
) -> None:
    """The route's last segment picks the handler; the dead-letter topic tells admin who gave up."""
    for subscription in declared_by(app_id):
        assert subscription.route == route_of(subscription.topic), subscription.name
        template, params = post_route(apps[app_id], subscription.route)
        assert (template, params) == ("/events/{topic}", {"topic": subscription.topic}), subscription.name
        assert subscription.dead_letter_topic == dead_letter_topic_of(app_id), subscription.name


def test_the_intake_keeps_each_dead_letter_under_its_subscriber_and_never_forwards_one(
    apps: dict[str, FastAPI],
) -> None:
    """A letter admin cannot store is retried: a dead-letter topic of its own would lose who failed."""
    subscriptions = declared_by(DEAD_LETTERS)
    assert subscriptions
    for subscription in subscriptions:
        assert subscription.dead_letter_topic is None, subscription.name
        template, params = post_route(apps[DEAD_LETTERS], subscription.route)
        if subscription.topic == DEAD_LETTER_TOPIC:
            assert (template, params) == ("/deadletters", {}), subscription.name
        else:
            subscriber = subscription.topic.removeprefix(f"{DEAD_LETTER_TOPIC}.")
            assert subscription.topic == dead_letter_topic_of(subscriber) and subscriber in APPS, subscription.name
            assert (template, params) == ("/deadletters/{subscriber}", {"subscriber": subscriber}), subscription.name


def test_admin_reads_every_dead_letter_topic_a_subscription_names() -> None:
    named = {subscription.dead_letter_topic for subscription in DECLARED if subscription.dead_letter_topic}
    assert named <= {subscription.topic for subscription in declared_by(DEAD_LETTERS)}


def test_no_app_subscribes_programmatically(apps: dict[str, FastAPI]) -> None:
    """daprd lets an app's programmatic subscription replace the declared one of the same topic."""
    for app_id, app in apps.items():
        answer = TestClient(app).get("/dapr/subscribe", headers={"dapr-api-token": TOKEN})
        assert (answer.status_code, answer.json()) == (200, []), app_id

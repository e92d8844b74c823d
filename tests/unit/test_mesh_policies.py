"""The mesh's policy files against the code (docs/security.md): which app may call which route
(config/<app-id>.yaml, accessControl), read which secret (secrets.scopes), and publish or subscribe
which topic (the pub/sub component's scopes). A new route, topic or secret no policy covers fails here.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from junction.identity.v1 import users_pb2
from tests.unit.helpers import AccessControl, Caller
from tools.subscriptions import load_subscriptions, subscribed_topics

ROOT = Path(__file__).resolve().parents[2]
RUN_FILE = yaml.safe_load((ROOT / "dapr.yaml").read_text())
APPS = [str(app["appID"]) for app in RUN_FILE["apps"]]
CONFIGS = {app: yaml.safe_load((ROOT / "config" / f"{app}.yaml").read_text()) for app in APPS}
GRPC_APPS = {str(app["appID"]) for app in RUN_FILE["apps"] if app.get("appProtocol", "http") == "grpc"}
GRPC_METHODS = {
    "identity": {
        f"/{service.full_name}/{method.name}"
        for service in users_pb2.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
}
"""The gRPC methods each gRPC app serves (proto/), which its sidecar names by their full name."""


def _access(app: str, spec: dict[str, Any] | None = None) -> AccessControl:
    """The app's policy as its sidecar applies it: a gRPC app's sidecar ignores verbs and case."""
    return AccessControl(spec or CONFIGS[app]["spec"]["accessControl"], grpc_app=app in GRPC_APPS)


PROFILES = sorted(path.parent.name for path in (ROOT / "components").glob("*/pubsub.yaml"))

MESH_CALLS = {("gateway", app) for app in APPS if app != "gateway"} | {
    ("orders", "identity"),
    ("orders", "catalog"),
    ("admin", "provisioner"),
    ("admin", "identity"),
}
"""ARCHITECTURE.md's table: the only caller -> callee pairs a policy may open."""
SIDECAR_ONLY = re.compile(r"^/(healthz|dapr/.*|events/.*|deadletters(/.*)?|order-expiry)$")
"""Routes only an app's own sidecar calls (probes, subscriptions, deliveries, the cron binding)."""
NOT_IN_MESH = {("catalog", "GET", "/reservations/{order_id}"), ("payments", "GET", "/provider/ledger")}
"""Routes no peer needs: operators and tests read them on the app's own port, with its own token."""
SECRET_READERS = {
    ("secretstore", "jwt-signing-key"): {"identity", "gateway"},
    ("provisioning-secrets", "provisioner-key"): {"admin", "provisioner"},
}
OWNERS = {"user": "identity", "product": "catalog", "order": "orders", "payment": "payments", "tenant": "admin"}
TOPIC = re.compile(r"^(user|product|order|payment|tenant)\.[a-z_]+$")


def _routes(app_id: str) -> list[tuple[str, str]]:
    """Every (verb, path template) the app serves, from its OpenAPI document."""
    app = importlib.import_module(f"apps.{app_id}.main").create_app()
    return [(verb.upper(), path) for path, operations in app.openapi()["paths"].items() for verb in operations]


def _sample(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


@pytest.fixture(scope="module")
def routes() -> dict[str, list[tuple[str, str]]]:
    return {app: _routes(app) for app in APPS}


@pytest.fixture(scope="module")
def subscriptions() -> dict[str, set[str]]:
    """The topics each app's sidecar subscribes: its declared subscriptions (tests/unit/test_subscriptions.py)."""
    return {app_id: set(subscribed_topics(app_id)) for app_id in APPS}


def _published_in_code(app_id: str) -> set[str]:
    """Domain topics named as string literals anywhere in the app's package."""
    topics: set[str] = set()
    for path in (ROOT / "apps" / app_id).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and TOPIC.match(node.value):
                topics.add(node.value)
    return topics


def _scopes(profile: str, name: str) -> dict[str, set[str]]:
    metadata = yaml.safe_load((ROOT / "components" / profile / "pubsub.yaml").read_text())["spec"]["metadata"]
    value = next(str(entry["value"]) for entry in metadata if entry["name"] == name).replace(" ", "")
    if name == "protectedTopics":
        return {"*": set(value.split(","))}
    scopes: dict[str, set[str]] = {}
    for scope in value.split(";"):
        app_id, _, topics = scope.partition("=")
        scopes[app_id] = {topic for topic in topics.split(",") if topic}
    return scopes


# ---- configurations ------------------------------------------------------------------------
def test_every_app_runs_with_a_configuration_of_its_own() -> None:
    for app in RUN_FILE["apps"]:
        assert app["configFilePath"] == f"./config/{app['appID']}.yaml"
        assert CONFIGS[app["appID"]]["metadata"]["name"] == app["appID"]


def test_the_configurations_differ_only_in_access_control_and_secrets() -> None:
    def shared(config: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in config["spec"].items() if k not in ("accessControl", "secrets")}

    first = shared(CONFIGS[APPS[0]])
    for app in APPS:
        assert shared(CONFIGS[app]) == first, app


def test_every_sidecar_denies_what_no_policy_allows() -> None:
    for app, config in CONFIGS.items():
        access = config["spec"]["accessControl"]
        assert access["defaultAction"] == "deny", app
        for policy in access["policies"]:
            assert policy["defaultAction"] == "deny", (app, policy["appId"])
            assert (policy["appId"], app) in MESH_CALLS, f"{policy['appId']} may not call {app} (ARCHITECTURE.md)"


# ---- invocation ----------------------------------------------------------------------------
def test_no_peer_reaches_what_only_an_apps_own_sidecar_calls(routes: dict[str, list[tuple[str, str]]]) -> None:
    for app, served in routes.items():
        access = _access(app)
        for verb, path in served:
            if SIDECAR_ONLY.match(path) or (app, verb, path) in NOT_IN_MESH:
                for caller in APPS:
                    assert not access.allows(Caller(caller), verb, _sample(path)), (caller, app, verb, path)


def test_no_app_calls_the_gateway_through_the_mesh() -> None:
    """Clients reach the gateway on its own port; its sidecar only calls out."""
    assert CONFIGS["gateway"]["spec"]["accessControl"]["policies"] == []


def test_every_route_a_peer_may_call_is_covered_by_a_policy(routes: dict[str, list[tuple[str, str]]]) -> None:
    uncovered = []
    for app, served in routes.items():
        if app == "gateway":
            continue
        access = _access(app)
        for verb, path in served:
            if SIDECAR_ONLY.match(path) or (app, verb, path) in NOT_IN_MESH:
                continue
            if not any(access.allows(Caller(caller), verb, _sample(path)) for caller in APPS):
                uncovered.append(f"{verb} {app}{path}")
    assert not uncovered, f"no caller may reach these; allow them in config/ or list them in NOT_IN_MESH: {uncovered}"


def test_every_allowed_operation_names_a_route(routes: dict[str, list[tuple[str, str]]]) -> None:
    for app, config in CONFIGS.items():
        for policy in config["spec"]["accessControl"]["policies"]:
            single = _access(app, {"defaultAction": "deny", "policies": [policy]})
            for operation in policy["operations"]:
                if "httpVerb" not in operation:  # a gRPC method
                    assert operation["name"] in GRPC_METHODS.get(app, set()), (policy["appId"], app, operation)
                    continue
                hits = [
                    (verb, path)
                    for verb, path in routes[app]
                    if verb in operation["httpVerb"] and single.allows(Caller(policy["appId"]), verb, _sample(path))
                ]
                assert hits, f"{policy['appId']} -> {app} {operation['name']} matches no route"


def test_the_gateway_reaches_the_public_routes_and_orders_only_its_lookups() -> None:
    """Spot checks of Dapr's matching (tests/unit/dapr_acl.py) on the policies as written."""
    identity = _access("identity")
    catalog = _access("catalog")
    assert identity.allows(Caller("gateway"), "POST", "/users")
    assert identity.allows(Caller("gateway"), "", "/junction.identity.v1.Users/GetUser")
    assert not identity.allows(Caller("gateway"), "", "/junction.identity.v1.Users/ValidateUser")
    assert identity.allows(Caller("orders"), "", "/junction.identity.v1.Users/ValidateUser")
    assert not identity.allows(Caller("orders"), "", "/junction.identity.v1.users/validateuser"), "case counts"
    assert not identity.allows(Caller("orders"), "", "/junction.identity.v1.Users/GetUser")
    assert not identity.allows(Caller("orders"), "GET", "/users/u1"), "orders validates users over gRPC only"
    assert not identity.allows(Caller("orders"), "POST", "/users")
    assert not identity.allows(Caller("catalog"), "POST", "/users")
    assert not identity.allows(Caller("catalog"), "", "/junction.identity.v1.Users/ValidateUser")
    assert catalog.allows(Caller("orders"), "POST", "/reservations/o1/commit")
    assert not catalog.allows(Caller("orders"), "GET", "/reservations/o1")
    assert not catalog.allows(Caller("gateway"), "POST", "/reservations")
    assert not catalog.allows(Caller("orders", trust_domain="elsewhere"), "POST", "/reservations")


# ---- secrets -------------------------------------------------------------------------------
def test_each_secret_is_readable_only_by_the_apps_that_need_it() -> None:
    for app, config in CONFIGS.items():
        scopes = {scope["storeName"]: scope for scope in config["spec"]["secrets"]["scopes"]}
        assert {store for store, _ in SECRET_READERS} <= set(scopes), app
        for scope in scopes.values():
            assert scope["defaultAccess"] == "deny", (app, scope["storeName"])
            for secret in scope.get("allowedSecrets") or []:
                assert app in SECRET_READERS.get((scope["storeName"], secret), set()), (app, secret)
        for (store, secret), readers in SECRET_READERS.items():
            allowed = secret in (scopes[store].get("allowedSecrets") or [])
            assert allowed == (app in readers), (app, store, secret)


# ---- topics --------------------------------------------------------------------------------
@pytest.mark.parametrize("profile", PROFILES)
def test_every_app_publishes_only_its_own_topics(profile: str, subscriptions: dict[str, set[str]]) -> None:
    publishing = _scopes(profile, "publishingScopes")
    assert set(publishing) == set(APPS), "every app needs a publishing scope, if only `app=`"
    for app, topics in publishing.items():
        for topic in topics:
            if TOPIC.match(topic):
                assert OWNERS[topic.split(".")[0]] == app, f"{app} may publish {topic}"
            elif topic.startswith("replays."):
                assert app == "admin", f"{app} may publish {topic}"
            else:
                assert topic == f"deadletters.{app}", f"{app} may publish {topic}"
        published = _published_in_code(app) - subscriptions[app]  # a consumer names what it reads, too
        assert published <= topics, f"{app} publishes topics its scope does not allow"


@pytest.mark.parametrize("profile", PROFILES)
def test_every_app_subscribes_exactly_what_it_consumes(profile: str, subscriptions: dict[str, set[str]]) -> None:
    scoped = _scopes(profile, "subscriptionScopes")
    assert set(scoped) == set(APPS), "every app needs a subscription scope, if only `app=`"
    for app in APPS:
        assert scoped[app] == subscriptions[app], app


@pytest.mark.parametrize("profile", PROFILES)
def test_each_sidecar_may_publish_the_dead_letter_topics_of_its_subscriptions(profile: str) -> None:
    """daprd forwards a failed event through its own publish path, where the publishing scopes apply."""
    publishing = _scopes(profile, "publishingScopes")
    for subscription in load_subscriptions():
        if subscription.dead_letter_topic:
            assert subscription.dead_letter_topic in publishing[subscription.app_id], subscription.name


@pytest.mark.parametrize("profile", PROFILES)
def test_admin_reads_every_dead_letter_topic_a_sidecar_may_publish(
    profile: str, subscriptions: dict[str, set[str]]
) -> None:
    publishable = {topic for topics in _scopes(profile, "publishingScopes").values() for topic in topics}
    dead_letters = {topic for topic in publishable if topic.split(".")[0] == "deadletters"}
    assert dead_letters <= subscriptions["admin"]


@pytest.mark.parametrize("profile", PROFILES)
def test_every_scoped_topic_is_protected_from_apps_left_out(profile: str) -> None:
    protected = _scopes(profile, "protectedTopics")["*"]
    for name in ("publishingScopes", "subscriptionScopes"):
        for app, topics in _scopes(profile, name).items():
            assert topics <= protected, (name, app, topics - protected)


def test_replays_go_only_to_their_subscriber(subscriptions: dict[str, set[str]]) -> None:
    replayed = {topic for topic in _scopes("local", "publishingScopes")["admin"] if topic.startswith("replays.")}
    consumers = {app for app, topics in subscriptions.items() if any(TOPIC.match(t) for t in topics)}
    assert replayed == {f"replays.{app}" for app in consumers}

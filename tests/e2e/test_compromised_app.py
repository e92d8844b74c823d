"""A compromised catalog, holding nothing but catalog's own credentials (its process environment),
tries what issue 8 found open. Every attempt is refused — by a sidecar before it reaches an app, or
by an app that wants its own sidecar's token — and nothing it tried leaves a trace.
"""

from __future__ import annotations

import uuid

import grpc
import httpx
import pytest

from junction.identity.v1 import users_pb2, users_pb2_grpc
from tests.e2e.conftest import Account
from tools.stack import Stack

ATTACKER = "catalog"


def _as_attacker(stack: Stack) -> dict[str, str]:
    return {"dapr-api-token": stack.apps[ATTACKER].dapr_token}


def _invoke(stack: Stack, app_id: str, method: str, path: str, **kwargs: object) -> httpx.Response:
    """Service invocation through the attacker's own sidecar, with its own token."""
    sidecar = stack.apps[ATTACKER].sidecar_url
    return httpx.request(
        method,
        f"{sidecar}/v1.0/invoke/{app_id}/method/{path.lstrip('/')}",
        headers=_as_attacker(stack),
        timeout=15,
        **kwargs,  # type: ignore[arg-type]
    )


def _refused_by_acl(answer: httpx.Response) -> bool:
    return answer.status_code == 403 and "access control policy has denied access" in answer.text


def test_one_apps_tokens_open_no_other_sidecar_and_no_other_app(stack: Stack) -> None:
    payments = stack.apps["payments"]
    attacker = stack.apps[ATTACKER]
    assert httpx.get(f"{payments.sidecar_url}/v1.0/metadata", headers=_as_attacker(stack), timeout=5).status_code == 401
    for token in (attacker.app_token, attacker.dapr_token):
        answer = httpx.get(f"{payments.app_url}/payments", headers={"dapr-api-token": token}, timeout=5)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "NOT_FROM_SIDECAR"
    # The tokens do work where they belong: catalog's own sidecar and catalog's own app.
    assert httpx.get(f"{attacker.sidecar_url}/v1.0/metadata", headers=_as_attacker(stack), timeout=5).status_code == 200
    own = httpx.get(f"{attacker.app_url}/products", headers={"dapr-api-token": attacker.app_token}, timeout=5)
    assert own.status_code == 200
    tokens = {(app.app_token, app.dapr_token) for app in stack.apps.values()}
    assert len(tokens) == len(stack.apps), "every app has tokens of its own"


def test_secrets_are_read_only_by_the_apps_that_need_them(stack: Stack) -> None:
    def read(app_id: str, store: str, key: str) -> int:
        app = stack.apps[app_id]
        url = f"{app.sidecar_url}/v1.0/secrets/{store}/{key}"
        return httpx.get(url, headers={"dapr-api-token": app.dapr_token}, timeout=5).status_code

    assert read(ATTACKER, "secretstore", "jwt-signing-key") == 403
    assert read(ATTACKER, "provisioning-secrets", "provisioner-key") in (400, 401, 403, 404)  # not even loaded
    assert read("orders", "secretstore", "jwt-signing-key") == 403
    assert read("gateway", "provisioning-secrets", "provisioner-key") in (400, 401, 403, 404)
    assert read("identity", "secretstore", "jwt-signing-key") == 200
    assert read("gateway", "secretstore", "jwt-signing-key") == 200
    assert read("admin", "provisioning-secrets", "provisioner-key") == 200
    assert read("admin", "secretstore", "jwt-signing-key") == 403


def test_only_the_owner_publishes_its_events(stack: Stack, account: Account) -> None:
    order_id = uuid.uuid4().hex
    fake = {"orderId": order_id, "userId": account.user_id, "amount": 1}
    attacker = stack.apps[ATTACKER]
    for topic in ("payment.succeeded", "order.created", "user.registered", "tenant.provisioned", "replays.orders"):
        answer = httpx.post(
            f"{attacker.sidecar_url}/v1.0/publish/pubsub/{topic}", json=fake, headers=_as_attacker(stack), timeout=5
        )
        assert answer.status_code == 403 and "ERR_PUBSUB_FORBIDDEN" in answer.text, (topic, answer.text)
    # catalog's own topic is its to publish.
    own = httpx.post(
        f"{attacker.sidecar_url}/v1.0/publish/pubsub/deadletters.catalog",
        json={"probe": True},
        headers=_as_attacker(stack),
        timeout=5,
    )
    assert own.status_code == 204, own.text


def test_the_callees_sidecar_refuses_calls_no_policy_allows(
    stack: Stack, gateway: httpx.Client, unique_email: str
) -> None:
    created = _invoke(stack, "identity", "POST", "/users", json={"email": unique_email, "password": "s3cret-pass"})
    assert _refused_by_acl(created), created.text
    assert _refused_by_acl(_invoke(stack, "payments", "GET", "/payments"))
    assert _refused_by_acl(_invoke(stack, "orders", "POST", "/events/payment.succeeded", json={}))
    assert _refused_by_acl(_invoke(stack, "admin", "POST", "/tenants", json={}))
    assert _refused_by_acl(_invoke(stack, "provisioner", "POST", "/init-database", json={}))
    # orders validates users over gRPC only (tests/e2e/test_grpc_users.py): its HTTP lookup is refused now.
    orders = stack.apps["orders"]
    lookup = httpx.get(
        f"{orders.sidecar_url}/v1.0/invoke/identity/method/users/{uuid.uuid4().hex}",
        headers={"dapr-api-token": orders.dapr_token},
        timeout=15,
    )
    assert _refused_by_acl(lookup), lookup.text
    # The attacker's gRPC call is refused by identity's sidecar too, by the full method name.
    with grpc.insecure_channel(f"127.0.0.1:{stack.apps[ATTACKER].grpc_port}") as channel:
        metadata = (("dapr-app-id", "identity"), *_as_attacker(stack).items())
        with pytest.raises(grpc.RpcError) as raw:
            users_pb2_grpc.UsersStub(channel).ValidateUser(
                users_pb2.ValidateUserRequest(user_id=uuid.uuid4().hex), metadata=metadata, timeout=15
            )
        assert raw.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # The refused registration created nobody: the address is still free.
    registered = gateway.post("/auth/register", json={"email": unique_email, "password": "s3cret-pass", "name": "Eve"})
    assert registered.status_code == 201, registered.text

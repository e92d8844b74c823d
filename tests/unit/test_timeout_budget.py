"""The timeouts form one budget (docs/timeouts.md): every waiter outlasts what it waits for.

Read from the shipped YAML and the apps' settings, so changing one number without its sums fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from apps.admin.settings import AdminSettings
from apps.gateway.settings import GatewaySettings
from apps.orders.settings import OrdersSettings
from servicekit.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
SPEC: dict[str, Any] = yaml.safe_load((ROOT / "components/common/resiliency.yaml").read_text())["spec"]


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", duration)
    assert match is not None, duration
    return float(match[1]) * {"ms": 0.001, "s": 1.0, "m": 60.0}[match[2]]


FIRST_PAUSE, MULTIPLIER, RANDOMIZATION = 0.5, 1.5, 0.5
"""dapr/kit's exponential defaults, which Dapr 1.18's Resiliency cannot change: the first pause 500 ms, each
next one 1.5 times the last, capped at maxInterval, then jittered by up to 50 %."""
DAPR_RETRY_FIELDS = {"policy", "duration", "maxInterval", "maxRetries", "matching"}
"""What a retry policy of Dapr 1.18 has (pkg/apis/resiliency/v1alpha1 Retry); daprd drops anything else unread."""


def pauses(policy: dict[str, Any], *, longest: bool = True) -> float:
    """The sum of a retry policy's pauses between attempts: the longest possible, or the shortest."""
    retries = int(policy["maxRetries"])
    if policy["policy"] == "constant":
        return retries * seconds(policy["duration"])
    pause, cap, total = FIRST_PAUSE, seconds(policy["maxInterval"]), 0.0
    for _ in range(retries):
        total += min(pause, cap)
        pause *= MULTIPLIER
    return total * (1 + RANDOMIZATION if longest else 1 - RANDOMIZATION)


def worst_case(timeout: str, retry: str | None) -> float:
    """Every attempt running to its timeout, plus every pause between them."""
    policy: dict[str, Any] = (
        SPEC["policies"]["retries"][retry] if retry else {"maxRetries": 0, "policy": "constant", "duration": "0s"}
    )
    attempt = seconds(SPEC["policies"]["timeouts"][timeout])
    return (int(policy["maxRetries"]) + 1) * attempt + pauses(policy)


def worst_call(app_id: str) -> float:
    target = SPEC["targets"]["apps"][app_id]
    return worst_case(target["timeout"], target.get("retry"))


def settings(cls: type[ServiceSettings], **values: Any) -> Any:
    return cls(**values)


def test_retry_policies_set_only_what_dapr_reads() -> None:
    """A field Dapr does not have (initialInterval, say) is dropped without a word: the budget would be a guess."""
    for name, policy in SPEC["policies"]["retries"].items():
        assert set(policy) <= DAPR_RETRY_FIELDS, (name, set(policy) - DAPR_RETRY_FIELDS)


def test_every_app_target_has_a_timeout_a_retry_and_a_breaker() -> None:
    for app_id, target in SPEC["targets"]["apps"].items():
        assert {"timeout", "retry", "circuitBreaker"} <= set(target), app_id


def test_retries_never_match_a_business_refusal() -> None:
    for name, policy in SPEC["policies"]["retries"].items():
        if "matching" in policy:
            codes = policy["matching"]["httpStatusCodes"]
            assert not re.search(r"\b4(0\d|1\d|2[0-8])\b", codes), f"{name} retries a refusal: {codes}"


def test_a_delivery_and_all_its_retries_end_inside_the_brokers_processing_timeout() -> None:
    inbound = SPEC["targets"]["components"]["pubsub"]["inbound"]
    delivery = worst_case(inbound["timeout"], inbound["retry"])
    pubsub = yaml.safe_load((ROOT / "components/local/pubsub.yaml").read_text())
    processing = next(m["value"] for m in pubsub["spec"]["metadata"] if m["name"] == "processingTimeout")
    assert delivery < seconds(processing)


def test_a_delivery_outlasts_an_open_breaker() -> None:
    inbound = SPEC["targets"]["components"]["pubsub"]["inbound"]
    retry = SPEC["policies"]["retries"][inbound["retry"]]
    assert pauses(retry, longest=False) > seconds(SPEC["policies"]["circuitBreakers"]["peer"]["timeout"])


@pytest.mark.parametrize(
    ("waiter", "longest"),
    [
        (settings(ServiceSettings, APP_ID="catalog"), "catalog"),
        (settings(AdminSettings), "provisioner"),
        (settings(GatewaySettings), "admin"),
        (settings(GatewaySettings), "orders"),
    ],
    ids=[
        "a leaf app waits for a leaf call",
        "admin waits for provisioning",
        "gateway waits for a tenant",
        "gateway waits for orders",
    ],
)
def test_each_apps_sidecar_client_outlasts_the_longest_call_it_makes(waiter: ServiceSettings, longest: str) -> None:
    assert waiter.sidecar_timeout_seconds > worst_call(longest)


def test_placing_an_order_ends_before_the_gateways_attempt_and_is_reaped_only_after_the_gateway_gave_up() -> None:
    orders = settings(OrdersSettings)
    assert orders.place_budget_seconds < seconds(
        SPEC["policies"]["timeouts"][SPEC["targets"]["apps"]["orders"]["timeout"]]
    )
    assert orders.placing_deadline_seconds > worst_call("orders")


def test_provisioning_fits_in_one_attempt_at_admin() -> None:
    onboarding = seconds(SPEC["policies"]["timeouts"][SPEC["targets"]["apps"]["admin"]["timeout"]])
    assert worst_call("provisioner") + worst_call("identity") < onboarding


def test_a_tenant_creation_answers_before_the_gateways_attempt_at_admin_ends() -> None:
    """admin stops waiting for the provisioning workflow (which goes on) before the gateway gives up on admin."""
    onboarding = seconds(SPEC["policies"]["timeouts"][SPEC["targets"]["apps"]["admin"]["timeout"]])
    assert settings(AdminSettings).provisioning_wait_seconds < onboarding

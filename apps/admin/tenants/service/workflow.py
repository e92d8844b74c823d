"""Tenant onboarding as a Dapr Workflow: one activity per step, a retry policy each, compensation on failure.

    create_database -> run_migrations -> create_first_admin -> activate      => ACTIVE
          └──────────────── any step out of retries ─────────────> compensate => FAILED

Why a workflow and not the state machine admin kept in Dapr state before: the engine records every
step's result in its own history (the actor state store), so a SIGKILL of admin in the middle is no
longer an "interrupted" tenant someone must retry by hand: on restart the engine replays the history
and carries on from the step it was in. Retries live in one RetryPolicy per activity instead of a
hand-written loop, and compensation is plain `try/except` in the orchestrator. The tenant record in
admin's state stays the read model the API answers from; the activities keep it up to date.

The orchestrator must be deterministic (it is replayed from history): it only calls activities and
reads their results. It names activities by string, so it runs as a plain generator in unit tests.
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any, Protocol

from dapr.ext.workflow import RetryPolicy, TaskFailedError

from apps.admin.tenants.service.steps import SUPERSEDED, Run

WORKFLOW = "provision_tenant"
FAILED = "FAILED"


def _policy(*, first: float, attempts: int, longest: float) -> RetryPolicy:
    return RetryPolicy(
        first_retry_interval=timedelta(seconds=first),
        max_number_of_attempts=attempts,
        backoff_coefficient=2.0,
        max_retry_interval=timedelta(seconds=longest),
    )


# Each step's sidecar calls already retry transport errors (components/common/resiliency.yaml); these
# policies ride out what outlasts that: a provisioner restarting, a database server briefly away. Their
# pauses stay short so a failing tenant answers the API within its wait (AdminSettings).
STEPS: tuple[tuple[str, str, RetryPolicy], ...] = (
    ("create_database", "creating the database", _policy(first=1, attempts=3, longest=4)),
    ("run_migrations", "running the migrations", _policy(first=1, attempts=3, longest=4)),
    ("create_first_admin", "creating the first administrator", _policy(first=1, attempts=3, longest=4)),
    ("activate", "activating the tenant", _policy(first=0.5, attempts=5, longest=4)),
)
COMPENSATE = "compensate"
# Compensation must happen: it retries far longer; the engine keeps trying across admin restarts.
COMPENSATE_POLICY = _policy(first=1, attempts=10, longest=30)


class Context(Protocol):
    """What the orchestrator uses of DaprWorkflowContext."""

    def call_activity(self, activity: str, *, input: Any = None, retry_policy: RetryPolicy | None = None) -> Any: ...


def instance_id(run: Run) -> str:
    """One workflow instance per provisioning attempt: scheduling it twice finds the first."""
    return f"tenant-{run.tenant_id}-{run.attempt}"


def provision_tenant(ctx: Context, data: Any) -> Generator[Any, Any, str]:
    """Run every step in order; compensate when one fails for good. Returns the tenant's final status."""
    run = Run.of(data)
    for name, doing, policy in STEPS:
        try:
            outcome = yield ctx.call_activity(name, input=run.as_input(), retry_policy=policy)
        except TaskFailedError as failure:
            reason = f"{doing} failed: {failure.details.message}"
            ended = yield ctx.call_activity(
                COMPENSATE, input={**run.as_input(), "reason": reason}, retry_policy=COMPENSATE_POLICY
            )
            return str(ended)
        if outcome == SUPERSEDED:  # a newer attempt owns the tenant: touch nothing more
            return SUPERSEDED
    return str(outcome)

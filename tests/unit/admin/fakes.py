"""Stand-ins for admin's ports in unit tests: the workflow engine, tenant databases, first admins, the
provisioner behind a FakeSidecar, and a sidecar that remembers each tenant's steps.

The provisioning workflow runs without a sidecar: its orchestrator driven as the plain generator it is.
`drive` plays the Dapr Workflow engine's part: it hands the orchestrator each activity's result (or,
once the activity's RetryPolicy is spent, the TaskFailedError the SDK would raise) and records every
call, so tests see the order of the steps, their policies and the compensation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dapr.ext.workflow import RetryPolicy, TaskFailedError
from dapr.ext.workflow._durabletask.internal.helpers import new_failure_details

from apps.admin.tenants.domain import WorkflowUnavailable
from apps.admin.tenants.service.engine import RunState
from apps.admin.tenants.service.steps import Run, StepFailed, Steps, perform
from apps.admin.tenants.service.workflow import instance_id, provision_tenant
from servicekit.provisioning import PROVISIONER_KEY_SECRET
from servicekit.sidecar import StateOp
from tests.unit.fakes import FakeSidecar, Handler

PROVISIONER_KEY = "test-provisioner-key-0123456789"
SCHOOL_TABLES = ["teachers", "admin_users", "students", "classes", "attendance", "grades", "announcements"]


@dataclass(frozen=True)
class Call:
    activity: str
    input: Any
    retry_policy: RetryPolicy | None


@dataclass
class ScriptedContext:
    """Records what the orchestrator asks for; `drive` answers it."""

    calls: list[Call] = field(default_factory=list)

    def call_activity(self, activity: str, *, input: Any = None, retry_policy: RetryPolicy | None = None) -> Call:
        call = Call(activity, input, retry_policy)
        self.calls.append(call)
        return call


@dataclass
class Driven:
    outcome: str
    calls: list[Call]
    attempts: dict[str, int]
    """How many times each activity ran (its retries included)."""


async def drive(on: Steps, run: Run, *, before: Callable[[str, int], None] | None = None) -> Driven:
    """Run the workflow to its end over `on`; `before(activity, attempt)` may arrange a failure."""
    ctx = ScriptedContext()
    attempts: dict[str, int] = {}
    flow = provision_tenant(ctx, run.as_input())
    answer: Any = None
    failure: BaseException | None = None
    while True:
        try:
            call: Call = flow.throw(failure) if failure is not None else flow.send(answer)
        except StopIteration as done:
            return Driven(str(done.value), ctx.calls, attempts)
        answer, failure = None, None
        tries = call.retry_policy.max_number_of_attempts if call.retry_policy else 1
        for _ in range(tries):
            attempts[call.activity] = attempts.get(call.activity, 0) + 1
            try:
                if before is not None:
                    before(call.activity, attempts[call.activity])
                answer = await perform(call.activity, on, call.input)
                failure = None
                break
            except StepFailed as exc:
                failure = TaskFailedError(str(exc), new_failure_details(exc))


@dataclass
class InlineWorkflows:
    """TenantWorkflows that runs each run's workflow to its end at once, as `drive` does."""

    on: Steps
    states: dict[str, RunState] = field(default_factory=dict)
    driven: dict[str, Driven] = field(default_factory=dict)
    hold: bool = False
    """Schedule without running (a workflow still in flight)."""
    unavailable: set[str] = field(default_factory=set)
    """Tenant ids whose runs the engine does not answer for (503 WORKFLOW_UNAVAILABLE)."""
    waited: list[float] = field(default_factory=list)

    async def start(self, run: Run) -> None:
        if run.tenant_id in self.unavailable:
            raise WorkflowUnavailable("The workflow engine is unavailable.", details={"tenantId": run.tenant_id})
        if self.states.get(instance_id(run), RunState.MISSING) is not RunState.MISSING:
            return
        self.states[instance_id(run)] = RunState.RUNNING
        if not self.hold:
            self.driven[instance_id(run)] = await drive(self.on, run)
            self.states[instance_id(run)] = RunState.ENDED

    async def wait(self, run: Run, *, timeout_seconds: float) -> None:
        self.waited.append(timeout_seconds)

    async def state(self, run: Run) -> RunState:
        return self.states.get(instance_id(run), RunState.MISSING)


class RecordingSidecar(FakeSidecar):
    """Remembers every (status, step) written for each tenant, in order."""

    def __init__(self) -> None:
        super().__init__(secrets={PROVISIONER_KEY_SECRET: PROVISIONER_KEY})
        self.history: dict[str, list[tuple[str, str]]] = {}

    async def transact(self, operations: list[StateOp], *, store: str | None = None) -> None:
        await super().transact(operations, store=store)
        for op in operations:
            if op.key.startswith("tenant:") and not op.delete:
                self.history.setdefault(op.value["id"], []).append((op.value["status"], op.value["step"]))


@dataclass
class FakeTenantDatabases:
    existing: set[str] = field(default_factory=set)
    created: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    create_error: Exception | None = None

    async def create(self, database_url: str) -> None:
        if self.create_error is not None:
            raise self.create_error
        self.created.append(database_url)
        self.existing.add(database_url)

    async def remove(self, database_url: str) -> None:
        self.removed.append(database_url)
        self.existing.discard(database_url)


@dataclass
class FakeTenantAdmins:
    rows: dict[tuple[str, str], str] = field(default_factory=dict)
    """(database url, email) -> password hash."""
    error: Exception | None = None

    async def ensure_admin(self, database_url: str, *, email: str, password_hash: str) -> bool:
        if self.error is not None:
            raise self.error
        return self.rows.setdefault((database_url, email), password_hash) == password_hash


def provisioner_ok(tables: list[str] | None = None) -> Handler:
    async def handle(method: str, path: str, json: Any, params: dict[str, Any] | None) -> Any:
        assert (method, path) == ("POST", "/init-database")
        return {"success": True, "message": "migrated", "tablesCreated": list(tables or SCHOOL_TABLES)}

    return handle

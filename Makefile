# Every command a contributor needs. `make run` and `make test` set up everything themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PROFILE ?=
# Instances of orders, payments and catalog for `make run` (tools/servers/replicas.py).
REPLICAS ?= 1
# One profile (components/<name>/) for run, test-e2e and chaos; `make test` without it runs the CI matrix.
RUN_PROFILE := $(or $(PROFILE),local)

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z0-9-]+):.*## /  \1\t/'

.PHONY: help setup run test test-unit test-integration test-e2e lint format bench chaos fuzz proto clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed  ## Python dependencies, the Dapr runtime and CLI, the trace backend (Jaeger), the operator page's library (npm) and its test browser
	bash tools/dapr/install
	bash tools/jaeger/install
	bash tools/ui/install

run: setup  ## start every app beside its sidecar (REPLICAS=2: two of orders, payments, catalog); Ctrl-C stops what it started
	bash tools/run $(RUN_PROFILE) $(REPLICAS)

test: setup  ## the whole suite: lint, unit and integration once, then end-to-end per CI profile (or PROFILE=<name>)
	$(PY) -m tools.matrix $(PROFILE)

test-unit: $(VENV)/.installed  ## the unit tests alone: fakes and pure code, no server or database
	bash tools/pytest tests/unit

test-integration: $(VENV)/.installed  ## the integration tests alone: real adapters (SQLite, PostgreSQL, Redis, gRPC)
	bash tools/pytest tests/integration

test-e2e: setup  ## the end-to-end suite on one profile (PROFILE=<name>, default local)
	JUNCTION_PROFILE=$(RUN_PROFILE) bash tools/pytest tests/e2e

lint: $(VENV)/.installed  ## ruff, the format check and mypy strict over apps, libs, tools, tests and bench
	$(VENV)/bin/ruff check apps libs tests tools bench
	$(VENV)/bin/ruff format --check apps libs tests tools bench
	$(VENV)/bin/mypy

format: $(VENV)/.installed  ## ruff format and the fixes ruff can make itself
	$(VENV)/bin/ruff format apps libs tests tools bench
	$(VENV)/bin/ruff check --fix apps libs tests tools bench

bench: setup  ## orders completed/s, time to CONFIRMED, CPU per order, the sidecar hop (PROFILE=<name>, default local); into docs/benchmarks.md
	$(PY) -m bench.run --profile $(RUN_PROFILE) --output docs/benchmarks.md

chaos: setup  ## SIGKILLs under load through the gateway, then the books, written to docs/reliability.md
	JUNCTION_PROFILE=$(RUN_PROFILE) $(PY) -m tools.chaos --output docs/reliability.md

fuzz: setup  ## schemathesis against the gateway's OpenAPI as a customer and as the admin, on a stack of its own
	JUNCTION_PROFILE=$(RUN_PROFILE) $(PY) -m tools.fuzz

# The generated code is committed; tests/unit/servicekit/test_proto.py fails when it no longer matches proto/.
proto: $(VENV)/.installed  ## regenerate libs/junction/ (gRPC messages, stubs, their type stubs) from proto/
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(PY) -m grpc_tools.protoc -I proto --python_out=libs --grpc_python_out=libs \
		--mypy_out=libs --mypy_grpc_out=libs proto/junction/identity/v1/users.proto

clean:  ## remove run data (.data) and sidecar logs (replicas' too)
	rm -rf .data .dapr/logs .dapr/replicas

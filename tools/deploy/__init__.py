"""Junction beyond one machine: docker compose and Kubernetes files rendered from the repo's own YAML.

    python -m tools.deploy render            write deploy/compose/ and deploy/k8s/ (not deploy/k8s/schemas)
    python -m tools.deploy check             exit 1 when a rendered file differs from what is committed
    python -m tools.deploy compose-secrets   keys, API tokens and the mesh's certificates under .data/compose/

dapr.yaml, components/, components/profiles.yaml and config/ stay the one source: the renderer only
moves servers from 127.0.0.1 to their service names and swaps what a cluster does differently (name
resolution, secret stores, namespaces). docker-compose.yml at the root is written by hand and held to
dapr.yaml by tests/unit/deploy. docs/scaling.md says what was validated here and what was not run.
"""

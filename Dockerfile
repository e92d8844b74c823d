# One image for every app (docker-compose.yml, deploy/k8s): the pinned dependencies of pyproject.toml,
# then the code. An app is chosen by its command, `python -m apps.<app-id>`; its sidecar is another
# container (daprio/daprd) in the same network namespace, which is why the apps listen on 127.0.0.1.
# The operator page's front-end library (apps/gateway/ui/package.json), from npm exactly as `make setup`
# installs it (tools/ui/install): the versions and hashes of package-lock.json, copied by the same script.
FROM node:20-slim AS ui
WORKDIR /ui
COPY apps/gateway/ui/package.json apps/gateway/ui/package-lock.json ./
COPY tools/ui/vendor.mjs ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
    && node vendor.mjs package.json node_modules vendor

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app:/app/libs

WORKDIR /app

# The project's own dependency list, exactly as pinned (every one has a cp311 manylinux wheel: no compiler).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --requirement /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# libs/ (servicekit, the generated gRPC code), the apps, and from tools/ what runs inside a container:
# the health probe and the broker set-up (tools/deploy), the servers' helpers they reuse, the stream janitor.
# components/ is read by those helpers (which topics, which queues).
COPY libs ./libs
COPY apps ./apps
COPY --from=ui /ui/vendor ./apps/gateway/ui/vendor
COPY components ./components
COPY tools/__init__.py tools/janitor.py tools/subscriptions.py ./tools/
COPY tools/deploy ./tools/deploy
COPY tools/servers ./tools/servers
COPY dapr.yaml ./

# SQLite databases (the profiles without PostgreSQL) live under .data/, a volume in docker-compose.yml;
# the folder exists here so a fresh named volume takes its owner.
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /app junction \
    && mkdir -p /app/.data/tenants \
    && chown -R junction:junction /app/.data
USER 10001:10001

CMD ["python", "-c", "raise SystemExit('choose an app: python -m apps.<app-id>')"]

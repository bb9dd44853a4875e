# syntax=docker/dockerfile:1
# Funnel's production image, and an nginx image holding its static files:
#   docker build -t funnel .                      # the shop (gunicorn, or a Celery worker/beat)
#   docker build -t funnel-nginx --target nginx . # nginx with deploy/nginx and the static files
# compose.yaml builds both. The shop runs as an unprivileged user; settings come from the
# environment (FUNNEL_..., see docs/manual/operator.md), never from the image.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# 1. Build: the locked dependencies and the package into /opt/venv, with uv (as the Makefile).
FROM ${PYTHON_IMAGE} AS build
ENV UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /build
COPY pyproject.toml uv.lock README.md ./
# Dependencies first: this layer is kept while only the shop's code changes.
RUN uv sync --frozen --no-dev --no-install-project
COPY src ./src
RUN uv sync --frozen --no-dev --no-editable
# The static files for nginx: each under its fingerprinted and its plain name, with gzip twins.
RUN FUNNEL_INSTANCE_PATH=/tmp/funnel-build /opt/venv/bin/flask --app funnel assets build /build/static \
    && rm -rf /tmp/funnel-build

# 2. nginx: the site of deploy/nginx with the upstream of compose.yaml, and the static build
#    at the path funnel.conf names.
FROM nginx:1.27-bookworm AS nginx
COPY deploy/nginx/funnel-proxy.conf /etc/nginx/funnel-proxy.conf
COPY deploy/nginx/funnel.conf /etc/nginx/conf.d/default.conf
RUN sed -i -e 's|server 127.0.0.1:8000 |server app:8000 |' -e '/server 127.0.0.1:8001 /d' \
        /etc/nginx/conf.d/default.conf
COPY --from=build /build/static /srv/funnel/static

# 3. The shop: no compiler, no uv, no root.
FROM ${PYTHON_IMAGE} AS app
RUN groupadd --system --gid 10001 funnel \
    && useradd --system --uid 10001 --gid funnel --home-dir /srv/funnel --create-home funnel \
    && install -d -o funnel -g funnel -m 0750 /srv/funnel/instance
COPY --from=build /opt/venv /opt/venv
COPY deploy/gunicorn.conf.py /srv/funnel/gunicorn.conf.py
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FUNNEL_ENV=production \
    FUNNEL_INSTANCE_PATH=/srv/funnel/instance \
    GUNICORN_BIND=0.0.0.0:8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/funnel-metrics
USER funnel
WORKDIR /srv/funnel
VOLUME ["/srv/funnel/instance"]
EXPOSE 8000
# Liveness only (no database): /readyz is for the load balancer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
CMD ["gunicorn", "-c", "/srv/funnel/gunicorn.conf.py", "funnel:create_app()"]

# syntax=docker/dockerfile:1
# Fullfölj's container image: one image for the web server, the worker and the migrations
# (deploy/entrypoint.sh). How to run it: docs/production.md.

# Build: the package and its dependencies into a virtual environment, copied whole below.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/fullfolj/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY fullfolj ./fullfolj
# A regular install, not an editable one: the image holds the built package, not this tree.
RUN /opt/fullfolj/venv/bin/pip install ".[production]"

FROM python:3.11-slim-bookworm
# Pango, HarfBuzz and a font for WeasyPrint, which prints the PDFs; xmlsec1 for SAML signatures.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fontconfig \
        xmlsec1 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/fullfolj/venv /opt/fullfolj/venv
COPY deploy/entrypoint.sh deploy/gunicorn.conf.py /opt/fullfolj/deploy/
ENV PATH=/opt/fullfolj/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=fullfolj.settings \
    FULLFOLJ_DATA_DIR=/var/lib/fullfolj \
    FULLFOLJ_STATIC_ROOT=/opt/fullfolj/static \
    PORT=8000
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/fullfolj fullfolj
# The static files go into the image, read-only, served by WhiteNoise under hashed names. The
# settings load only with a key; this one signs nothing and is gone after this step.
RUN SECRET_KEY=collectstatic-only-not-a-secret fullfolj collectstatic --noinput
USER fullfolj
WORKDIR /var/lib/fullfolj
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["/opt/fullfolj/deploy/entrypoint.sh", "healthcheck"]
ENTRYPOINT ["/opt/fullfolj/deploy/entrypoint.sh"]
CMD ["web"]

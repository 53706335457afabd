# syntax=docker/dockerfile:1
# The claimlookup API (gunicorn) and, with another command, the indexer CLI.
#   docker build -t claimlookup .
#   docker run -p 8000:8000 -e CLAIMLOOKUP_STORE_URL=http://elasticsearch:9200 claimlookup
# compose.yaml wires it to Elasticsearch; docs/store-elastic.md explains both.
# Python 3.12: on 3.11 spaCy's wheels carry Cython's profiling hooks and its pipeline costs
# twice the CPU (docs/operations.md, "Python").
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, in their own layer: spaCy, onnxruntime and the model
# packages are most of the image and change far less often than the code.
# Empty package stubs let pip resolve the project before the code is copied.
COPY pyproject.toml README.md ./
RUN mkdir claimlookup api indexer \
 && touch claimlookup/__init__.py api/__init__.py indexer/__init__.py \
 && pip install --editable . \
 && rm -rf claimlookup api indexer

# Editable install: the API reads openapi.yaml from the source tree next to
# the api package, so the code stays in /app instead of site-packages.
COPY claimlookup ./claimlookup
COPY api ./api
COPY indexer ./indexer
COPY openapi.yaml gunicorn.conf.py ./
COPY seeds ./seeds

RUN useradd --create-home --uid 10001 --user-group claimlookup \
 && mkdir -p /app/data \
 && chown claimlookup:claimlookup /app/data
USER claimlookup

# Check the committed models against their cards at build time (the embedder
# and the relation model are files of the package; nothing is derived or
# cached at run time, so containers never write outside /app/data).
RUN python -c "from claimlookup.embed import get_embedder; from claimlookup.lookup.judging import get_relation_model; get_embedder().embed(['ok']); get_relation_model()"

# The embedded store by default (a file in /app/data: mount a volume there);
# compose.yaml points it at Elasticsearch instead.
ENV CLAIMLOOKUP_STORE_URL=sqlite:////app/data/claimlookup.db

EXPOSE 8000

# No curl in the slim image: probe with the standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]

# Threaded workers with read timeouts and problem+json errors: gunicorn.conf.py.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "api:create_app()"]

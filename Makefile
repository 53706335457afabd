# The two commands: `make run` and `make test`. Both create .venv/ on first use
# and reuse it while pyproject.toml is unchanged.
#
# The interpreter: Python 3.12 where the machine has one (on 3.11 spaCy's wheels
# carry Cython's profiling hooks and its pipeline costs twice the CPU:
# docs/operations.md, "Python"), else python3. `make PYTHON=python3.11 test`
# chooses another; .venv/ is made again when its Python is not that one.
PYTHON ?= $(shell tools/pick-python)
PYVER  := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-py$(PYVER)-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PORT   ?= 8000

.PHONY: install run index serve test test-fast test-contract lint typecheck bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@if [ -x $(PY) ] && [ "$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(PYVER)" ]; then \
	  echo "$(VENV) runs another Python than $(PYTHON) ($(PYVER)): making it again"; rm -rf $(VENV); fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	# TypeScript (npm) for the Elasticsearch specification check (tests/test_elastic_spec.py);
	# without npm that one test module is skipped, nothing else needs it.
	if command -v npm >/dev/null; then npm install --prefix $(VENV) --silent --no-audit --no-fund typescript@5.9.3 \
	  || echo "npm install typescript failed: the Elasticsearch specification check will be skipped"; fi
	rm -f $(VENV)/.installed-*
	touch $@

## Index seeds/ into the embedded store, then serve the API on 127.0.0.1:$(PORT).
run: install index serve

index: install
	$(VENV)/bin/claimlookup-index seeds/

serve: install
	$(VENV)/bin/gunicorn -c gunicorn.conf.py --bind 127.0.0.1:$(PORT) 'api:create_app()'

## Run the whole test suite.
test: install
	$(PY) -m pytest

## The property-based contract test with 100 examples per operation (CI runs it too).
test-contract: install
	SCHEMATHESIS_EXAMPLES=100 $(PY) -m pytest tests/test_schemathesis.py

## The tests that load no spaCy model and no embedder (-m "not slow"): about 3 minutes on 2 cores.
test-fast: install
	$(PY) -m pytest -m "not slow"

## Lint (ruff check; no formatter) and type-check (mypy); settings in pyproject.toml.
lint: install
	$(VENV)/bin/ruff check claimlookup api indexer bench tools tests

typecheck: install
	$(VENV)/bin/mypy claimlookup api indexer bench tools

bench: install
	$(PY) -m bench.index

clean:
	rm -rf $(VENV) data/claimlookup.db*

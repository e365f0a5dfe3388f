# mmsiam set-up and entry points. `make test` and `make demo` do all the
# set-up on a fresh machine; see README.md.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.mmsiam-env
PYTEST_ARGS ?=

.PHONY: env test test-all demo docs clean-env

env: $(STAMP)

# The stamp is newer than every input once the environment is complete, so a
# second `make env` does nothing. mmcv is built once per machine and torch
# build (cached in $$MMSIAM_WHEEL_CACHE or ~/.cache/mmsiam/wheels).
$(STAMP): setup.py requirements/build.txt requirements/runtime.txt \
		requirements/tests.txt tools/misc/build_mmcv.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements/build.txt
	$(PY) tools/misc/build_mmcv.py
	$(PIP) install -q -r requirements/runtime.txt -r requirements/tests.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	@touch $(STAMP)
	@echo "mmsiam environment ready: source $(VENV)/bin/activate"

# The everyday suite (about 10 minutes on 2 cores): everything but the
# `slow` end-to-end runs of the tools in subprocesses.
test: env
	$(PY) -m pytest tests -m "not slow" $(PYTEST_ARGS)

# Every test, the slow end-to-end runs included (what CI runs, .ci/run).
test-all: env
	$(PY) -m pytest tests $(PYTEST_ARGS)

# Pretrains the demo config on the built-in data in a new, timestamped work
# dir, so an earlier demo run is never overwritten.
demo: env
	$(PY) tools/train.py configs/demo/demo_pretrain.py \
		--work-dir work_dirs/demo_pretrain/$$(date +%Y%m%d_%H%M%S)

# The documentation site (docs/, mkdocs.yml) into site/; any warning fails.
# Needs only mkdocs, not the training environment.
DOCS_STAMP := $(VENV)/.mmsiam-docs
$(DOCS_STAMP): requirements/docs.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -r requirements/docs.txt
	@touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(PY) -m mkdocs build --strict --site-dir site

clean-env:
	rm -rf $(VENV)

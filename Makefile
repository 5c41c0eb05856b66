# mmmultilabel: set-up, demo, tests and benchmarks.
# Pins live in requirements/*.txt; this file only orders the steps.

SHELL := /bin/bash
VENV ?= $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),$(CURDIR)/.venv)
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.mmmultilabel-installed
REQS := $(wildcard requirements/*.txt) pyproject.toml setup.cfg Makefile

.PHONY: install demo test lint unit bench clean-demo help

help:
	@echo "make demo   install, then train and evaluate on the embedded shapes data"
	@echo "make test   install, then lint and run the test suite"
	@echo "make bench  install, then time training steps and evaluation against stock mmdet"

install: $(STAMP)

$(STAMP): $(REQS)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q -r requirements/build.txt
	@$(PY) -c "import torch" 2>/dev/null \
	  || $(PIP) install -r requirements/torch.txt
	@$(PY) -c "import mmcv.ops" 2>/dev/null && $(PIP) check mmcv >/dev/null 2>&1 \
	  || { echo "Building mmcv with CPU ops (about 16 minutes on 2 cores)..."; \
	       MMCV_WITH_OPS=1 MAX_JOBS=2 $(PIP) install --no-build-isolation \
	         -r requirements/mmcv.txt -c requirements/runtime.txt \
	       && $(PY) -c "import mmcv.ops" 2>/dev/null \
	       || { echo "Cached mmcv wheel does not match this torch; rebuilding it."; \
	            MMCV_WITH_OPS=1 MAX_JOBS=2 $(PIP) install --no-build-isolation \
	              --no-cache-dir --force-reinstall --no-deps -r requirements/mmcv.txt; }; }
	$(PIP) install -q -r requirements/runtime.txt -r requirements/mim-deps.txt -r requirements/tests.txt
	$(PIP) install -q --no-deps -r requirements/mim.txt
	$(PIP) install -q --no-build-isolation --no-deps -e . --config-settings editable_mode=compat
	@# mim looks for <site-packages>/mmmultilabel/.mim/{configs,tools}: link
	@# the source package there so that `mim train mmmultilabel` finds them.
	ln -sfn $(CURDIR)/mmmultilabel "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/mmmultilabel"
	$(PY) -c "import mmcv.ops, mmdet, mmseg.models, mmmultilabel; print('mmmultilabel', mmmultilabel.__version__, 'installed in $(VENV)')"
	@touch $(STAMP)

lint: install
	$(VENV)/bin/ruff check mmmultilabel tools tests configs
	$(VENV)/bin/ruff format --check mmmultilabel tools tests configs
	$(VENV)/bin/codespell

unit: install
	$(PY) -m pytest tests

test: lint unit

demo: install
	@echo "The demo is not built yet: 'make demo' has nothing to train." >&2; exit 1

bench: install
	@echo "The benchmarks are not built yet." >&2; exit 1

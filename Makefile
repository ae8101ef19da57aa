# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
# Each bootstraps .venv from uv.lock (uv itself comes from PyPI into .tools/).
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint sandbox install messages lock bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: the libraries' .pyc files are written once here. Development machines
# and CI set PYTHONDONTWRITEBYTECODE, so otherwise every process (each test worker, each bot
# process a test starts) compiles ~1,400 modules again: about 3 s of CPU each.
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON) --quiet
	touch $@

install: $(VENV)/.installed

## Start the bot: the real one when TELEGRAM_BOT_TOKEN is set, the sandbox otherwise.
run: install
	$(VENV)/bin/treem run

sandbox: install
	$(VENV)/bin/treem sandbox

## The whole test suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set), in parallel
## worker processes (TEST_WORKERS=0 for one process), each with its own databases.
TEST_WORKERS ?= 10
# The collection pass first, with bytecode writing on: pytest then keeps the test modules
# it rewrote for assertions, and each worker loads them instead of rewriting them again
# (measured: 5.97 s of CPU per worker to collect without that cache, 2.73 s with it).
test: install
	$(VENV)/bin/python -m compileall -q -j 0 bot domain handlers services storage > /dev/null
	PYTHONDONTWRITEBYTECODE= $(VENV)/bin/python -m pytest --collect-only -q $(PYTEST_ARGS) > /dev/null || true
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist load --maxschedchunk 1 $(PYTEST_ARGS)

## Static checks (rules in pyproject.toml, [tool.ruff.lint]).
lint: install
	$(VENV)/bin/ruff check .

## Extract new strings into the catalog (then translate them in messages/vi/).
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg --no-location --sort-output -k N_ \
		--project=treem-bot -o messages/treem.pot .
	$(VENV)/bin/pybabel update -i messages/treem.pot -d messages -D treem -l vi \
		--width=100 --ignore-obsolete

lock: $(UV)
	$(UV) lock

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf .tools $(VENV) .pytest_cache

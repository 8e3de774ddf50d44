# The two commands a new user needs (see README.md): `make run` and `make test`.
.PHONY: run test test-slow lint lock bench setup setup-dev sample

VENV := .venv/bin

setup:
	scripts/bootstrap.sh

setup-dev:
	scripts/bootstrap.sh --dev

## Set up, process the sample lesson, then serve the app with a worker at http://127.0.0.1:8000
run: setup
	$(VENV)/clipcoach process sample_media/lesson.mp4 --out var/sample-output
	$(VENV)/clipcoach serve

## Set up (including test tools and services) and run lint, types (mypy: strict on the code and
## benchmarks, relaxed on tests/, see pyproject.toml), the JS tests and the whole suite, one test
## file at a time on each core (pytest-xdist; module fixtures such as a live app stay per file)
test: setup-dev
	scripts/services.sh
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy
	npx --no-install eslint .
	node --test tests/js/
	$(VENV)/pytest -m "not slow" -n auto --dist loadfile --cov --cov-report=term $(PYTEST_ARGS)

## The long fault and load tests, kept out of the default run for time
test-slow: setup-dev
	scripts/services.sh
	$(VENV)/pytest -m slow $(PYTEST_ARGS)

lint: setup-dev
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy
	npx --no-install eslint .

## Re-pin every dependency (with hashes) after a change to pyproject.toml; commit both locks
LOCK := $(VENV)/uv pip compile pyproject.toml --quiet --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock"
lock: setup-dev
	$(LOCK) --output-file requirements.lock
	$(LOCK) --extra dev --output-file requirements-dev.lock

## Rewrite benchmarks/RESULTS.md (takes about two hours on 2 cores; run it on a quiet machine)
bench: setup-dev
	scripts/services.sh
	$(VENV)/python -m benchmarks.run

sample: setup-dev
	$(VENV)/python sample_media/make_lesson.py

# The two commands a new user needs:
#   make run    set up whatever is missing (environments, database, demo portfolio, model) and start Settle
#   make test   the whole test suite (what CI runs, through .ci/run); make test-fast skips Rasa and the browser
# And the production topology on this machine (PostgreSQL and Redis, see README "Production topology"):
#   make run-production
# And in containers (README "Containers"; podman as root, not part of `make test`):
#   make test-containers
.PHONY: run run-production test test-fast test-containers setup train lint validate bench bench-scale audit

PY_APP := .venv-app/bin/python
# Test files run on two processes (pytest-xdist), one file's tests on one process so that a module's stack starts
# once: the suite spends much of its time waiting on Rasa and the browser, and the other core is idle meanwhile.
# PYTEST_WORKERS= runs them in one process.
PYTEST_WORKERS ?= -n 2 --dist loadfile

# The embedded demo: demo phone on, REST channel open to loopback clients only (README "Security").
run: setup
	SETTLE_MODE=embedded $(PY_APP) -m bot run

run-production: setup
	$(PY_APP) -m bot run --production

test: setup
	$(PY_APP) -m bot train
	bash scripts/browser.sh
	bash scripts/kubectl.sh >/dev/null
	$(PY_APP) -m pytest -q $(PYTEST_WORKERS)

# The edit-test loop: everything but Rasa and the browser (no training, no chromium), a few minutes.
test-fast: setup
	bash scripts/kubectl.sh >/dev/null
	$(PY_APP) -m pytest -q $(PYTEST_WORKERS) -m "not integration and not browser and not containers"

# Builds the images, runs deploy/compose.production.yml with podman-compose, a conversation through the TLS proxy
# with a Rasa container killed mid-turn, then tears it down (tests/containers/). About 15 minutes from cold.
test-containers: setup train
	$(PY_APP) -m pytest -q -s -m containers tests/containers

setup:
	@scripts/envs.sh

train: setup
	$(PY_APP) -m bot train

# pip-audit on both environments' locks (scripts/audit.sh; needs PyPI's JSON API or OSV on the network).
audit: setup
	bash scripts/audit.sh

lint: setup
	.venv-app/bin/ruff check bot actions tests bench stripe_standin rasa_extensions

validate: setup
	.venv-rasa/bin/rasa data validate --domain domain --data data

bench: setup
	$(PY_APP) bench/run.py

# Issue 22: a turn at message 1, 100 and 1,000 of one conversation (before and after the tracker window, about 20
# minutes), then import and the compliance console's queries on PostgreSQL as the data grows (bench/README.md "Scale";
# 10 million messages take a long while to generate on 2 cores: SCALE_MESSAGES=100000,1000000 for a shorter run).
SCALE_ACCOUNTS ?= 100000,1000000
SCALE_MESSAGES ?= 100000,10000000
bench-scale: setup train
	$(PY_APP) bench/long_conversation.py
	$(PY_APP) bench/scale.py import --accounts $(SCALE_ACCOUNTS)
	$(PY_APP) bench/scale.py queries --messages $(SCALE_MESSAGES) --explain

# The two commands a new user needs:
#   make run    set up whatever is missing (environments, database, demo portfolio, model) and start Settle
#   make test   the whole test suite (what CI runs, through .ci/run)
# And the production topology on this machine (PostgreSQL and Redis, see README "Production topology"):
#   make run-production
.PHONY: run run-production test setup train lint validate bench

PY_APP := .venv-app/bin/python

run: setup
	$(PY_APP) -m bot run

run-production: setup
	$(PY_APP) -m bot run --production

test: setup
	$(PY_APP) -m bot train
	bash scripts/browser.sh
	$(PY_APP) -m pytest -q

setup:
	@scripts/envs.sh

train: setup
	$(PY_APP) -m bot train

lint: setup
	.venv-app/bin/ruff check bot actions tests bench stripe_standin rasa_extensions

validate: setup
	.venv-rasa/bin/rasa data validate --domain domain --data data

bench: setup
	$(PY_APP) bench/run.py

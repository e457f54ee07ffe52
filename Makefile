# make run   create .venv if missing, install ecg-alq into it, run the main job (ecg-alq flow)
# make test  same set-up, then the whole test suite on the real data in ../shared/data
# make test-fast  the fast tier for development: no hardware builds, training or long jobs
VENV   ?= .venv
PYTHON ?= python3
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-fast install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/ecg-alq flow

test: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 tests

test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 -m "not slow" tests

clean:
	rm -rf $(VENV) runs .pytest_cache

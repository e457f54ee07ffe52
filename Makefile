# make run   create .venv if missing, install ecg-alq into it, run the main job (ecg-alq flow)
# make test  same set-up, then the whole test suite on the real data in ../shared/data
# make test-fast  the fast tier for development: no hardware builds, training or long jobs
# make icarus  Icarus Verilog (the second simulator) from Debian's packages, where we are root;
#              elsewhere install it yourself (its tests are skipped, saying why, without it)
VENV   ?= .venv
PYTHON ?= python3
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test test-fast install icarus clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

icarus:
	@command -v iverilog >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	  && { apt-get install -y -q iverilog >/dev/null 2>&1 || { apt-get update -q >/dev/null \
	  && apt-get install -y -q iverilog >/dev/null; }; } \
	  || echo "Icarus Verilog not installed (not root or no apt-get): its tests are skipped"; }

run: $(STAMP)
	$(VENV)/bin/ecg-alq flow

test: $(STAMP) icarus
	$(VENV)/bin/python -m pytest -n 2 tests

test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 -m "not slow" tests

clean:
	rm -rf $(VENV) runs .pytest_cache

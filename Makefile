# Two commands for a new user: `make demo` (install, then paint the bundled example)
# and `make test` (install, then run the test suite). Both create ./.venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	mkdir -p out
	$(BIN)/brushwork examples/content/tubingen.jpg examples/style/starry_night.jpg -o out/tubingen_starry_night.png --overwrite
	@echo "Open out/tubingen_starry_night.png"

test: install
	$(BIN)/python -m pytest -n 2 -q

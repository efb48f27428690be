# Two commands for a new user: `make demo` (install, then paint the bundled example)
# and `make test` (install, then lint, type-check and run the test suite). Both create ./.venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXAMPLES := brushwork/examples

.PHONY: install demo test lint gallery screenshots

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[test,ray]'
	touch $@

install: $(VENV)/.installed

demo: install
	mkdir -p out
	$(BIN)/brushwork $(EXAMPLES)/content/tubingen.jpg $(EXAMPLES)/style/starry_night.jpg -o out/tubingen_starry_night.png --overwrite
	@echo "Open out/tubingen_starry_night.png"

lint: install
	$(BIN)/ruff check brushwork tests benchmarks notebooks docs
	$(BIN)/ruff format --check brushwork tests benchmarks notebooks docs
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q --durations=15

# The README's gallery: each bundled painting applied to Tübingen with default settings.
gallery: install
	mkdir -p docs/gallery
	$(BIN)/python -c "from PIL import Image; from brushwork.media.images import resize_longest; resize_longest(Image.open('$(EXAMPLES)/content/tubingen.jpg'), 512).save('docs/gallery/tubingen.jpg', quality=90)"
	for s in starry_night wave shipwreck udnie woman-with-hat-matisse; do \
	  $(BIN)/brushwork $(EXAMPLES)/content/tubingen.jpg $(EXAMPLES)/style/$$s.jpg -o docs/gallery/tubingen_$$s.png --overwrite -q || exit 1; \
	done

# The studio's screenshots in docs/, taken from the current page by the browser tests.
screenshots: install
	BRUSHWORK_UPDATE_SCREENSHOT=1 $(BIN)/python -m pytest -q tests/web/test_browser.py

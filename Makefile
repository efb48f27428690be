# Two commands for a new user: `make demo` (install, then paint the bundled example)
# and `make test` (install, then run the test suite). Both create ./.venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test gallery

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

# The README's gallery: each bundled painting applied to Tübingen with default settings.
gallery: install
	mkdir -p docs/gallery
	$(BIN)/python -c "from PIL import Image; from brushwork.images import resize_longest; resize_longest(Image.open('examples/content/tubingen.jpg'), 512).save('docs/gallery/tubingen.jpg', quality=90)"
	for s in starry_night wave shipwreck; do \
	  $(BIN)/brushwork examples/content/tubingen.jpg examples/style/$$s.jpg -o docs/gallery/tubingen_$$s.png --overwrite -q || exit 1; \
	done

# Two commands a new user needs (see README): `make run` and `make test`.
# Both create .venv on first use; later runs reuse it until settings.ini, setup.py or the pins change.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run demo browser test export readme notebooks bench lab

setup: $(STAMP)

$(STAMP): settings.ini setup.py requirements/constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -c requirements/constraints.txt -e ".[dev,ray,train]"
	touch $@

# The app on the shipped model: open http://localhost:8501
run: $(STAMP)
	$(VENV)/bin/streamlit run app.py --server.address 127.0.0.1 --server.port 8501

# The pipeline on a generated sample video, printed (no browser needed).
demo: $(STAMP)
	$(PY) scripts/demo.py

# Debian's chromium + chromedriver for the browser test (needs root; skipped, with the test, otherwise).
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; fi

# The notebooks are the source: exporting must not change the committed modules, then every chapter runs.
test: $(STAMP) browser
	@before=$$(git status --porcelain -- deepfake_detect 2>/dev/null | md5sum); \
	$(VENV)/bin/nbdev_export; \
	after=$$(git status --porcelain -- deepfake_detect 2>/dev/null | md5sum); \
	if [ "$$before" != "$$after" ]; then echo "nbdev_export changed deepfake_detect/: export the notebooks and commit the modules"; git status --short -- deepfake_detect; exit 1; fi
	$(PY) -m pytest -q tests

export: $(STAMP)
	$(VENV)/bin/nbdev_clean && $(VENV)/bin/nbdev_export && $(PY) scripts/readme.py

# README.md is the rendering of nbs/index.ipynb (settings.ini readme_nb; nbdev_readme would need quarto).
readme: $(STAMP)
	$(PY) scripts/readme.py

# Run the chapters in place, keeping figures, small tables and short printouts (slow cells skipped):
# `make notebooks`, or one chapter with `make notebooks NB=nbs/03_blend.ipynb`.
notebooks: $(STAMP)
	$(PY) scripts/run_notebooks.py $(or $(NB),nbs/[0-9]*.ipynb)

bench: $(STAMP)
	$(PY) bench/bench_video_faces.py

# The course: JupyterLab on the chapters, offline (ipywidgets' lab extension ships in its pip wheel).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=nbs $$([ "$$(id -u)" = 0 ] && echo --allow-root)

# make lab   — set up .venv (first time, or when requirements change) and open JupyterLab
# make test  — same set-up, then the whole test suite (unit tests + every notebook under nbval)
# make workspace / check-setup / html — personal copy of the notebooks, laptop check, HTML edition
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: lab workspace check-setup test benchmark notebooks html clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; ok = (3, 10) <= v <= (3, 13); \
	  sys.exit(0 if ok else f"Python 3.10-3.13 is needed (TensorFlow 2.21 wheels); found {sys.version.split()[0]}. Run: make PYTHON=python3.12 ...")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

# Opens your workspace (my-work/, made by `make workspace`) when it exists.
lab: $(STAMP)
	@if [ -d my-work ]; then dir=my-work/; else dir=notebooks/; fi; \
	  echo "Opening $$dir"; $(VENV)/bin/jupyter lab $$dir

workspace: $(STAMP)
	$(PY) -m helpers.workspace

check-setup: $(STAMP)
	$(PY) -m helpers.doctor

test: $(STAMP)
	$(PY) -m ruff check helpers tests
	$(PY) -m pytest -n 2 --dist loadscope

benchmark: $(STAMP)
	$(PY) -m helpers.benchmark

notebooks: $(STAMP)
	$(PY) -m helpers.authoring

html: $(STAMP)
	$(PY) -m helpers.html_edition

clean:
	rm -rf $(VENV)

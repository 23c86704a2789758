# make lab   — set up .venv (first time, or when requirements change) and open JupyterLab on my-work/
# make test  — same set-up, then the whole test suite (unit tests + every notebook under nbval)
# make workspace / check-setup / html — personal copy of the notebooks, laptop check, HTML edition
# Options: make lab LAB_ARGS="--port 9999 --no-browser"   (extra JupyterLab options)
#          make workspace ARGS=--dry-run                  (say what would happen, write nothing)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# ipykernel warns "Kernel is running over TCP without encryption" on every kernel start
# (nbconvert, nbval, JupyterLab's terminal): noise for kernels on this laptop, so the
# venv's IPython config filters that one message (nothing else).
KERNEL_CONFIG := $(VENV)/etc/ipython/ipython_kernel_config.py
SETUP  := $(STAMP) $(KERNEL_CONFIG)
LAB_ARGS ?=
ARGS     ?=

.PHONY: lab workspace check-setup test benchmark notebooks html clean

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; ok = (3, 10) <= v <= (3, 13); \
	  sys.exit(0 if ok else f"Python 3.10-3.13 is needed (TensorFlow 2.21 wheels); found {sys.version.split()[0]}. Run: make PYTHON=python3.12 ...")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

$(KERNEL_CONFIG): | $(STAMP)
	@mkdir -p $(dir $@)
	@printf '%s\n' \
	  '# Written by make: hide only ipykernel'"'"'s "running over TCP without encryption" warning.' \
	  'import logging' \
	  'logging.getLogger("IPKernelApp").addFilter(lambda r: "over TCP without encryption" not in r.getMessage())' \
	  > $@

# Opens your workspace my-work/ (made by `make workspace` the first time: you work there,
# never in the generated notebooks/). As root (containers, cloud VMs) JupyterLab refuses
# to start without --allow-root.
lab: $(SETUP)
	@if [ ! -d my-work ]; then $(PY) -m helpers.workspace; fi
	@if [ "$$(id -u)" = 0 ]; then root=--allow-root; else root=; fi; \
	  echo "Opening my-work/"; $(VENV)/bin/jupyter lab $$root $(LAB_ARGS) my-work/

workspace: $(SETUP)
	$(PY) -m helpers.workspace $(ARGS)

check-setup: $(SETUP)
	$(PY) -m helpers.doctor

test: $(SETUP)
	$(PY) -m ruff check helpers tests
	$(PY) -m pytest -n 2 --dist loadscope

benchmark: $(SETUP)
	$(PY) -m helpers.benchmark

notebooks: $(SETUP)
	$(PY) -m helpers.authoring

html: $(SETUP)
	$(PY) -m helpers.html_edition

clean:
	rm -rf $(VENV)

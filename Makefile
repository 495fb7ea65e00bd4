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
# analyses), FUZZTIME each. Minimising a new input is bounded by
# FUZZMINTIME (Go's default, 60 s, left slow targets a handful of
# executions); a finding stops the run, with its input under the
# package's testdata/fuzz. Ends with the executions per target. make test
# already runs the seed corpora.
FUZZMINTIME ?= 5s
fuzz:
	@set -e; log=$$(mktemp); sum=$$(mktemp); trap 'rm -f $$log $$sum' EXIT; \
	for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; \
	    rc=0; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINTIME) $$pkg >$$log 2>&1 || rc=$$?; \
	    tail -n 3 $$log; \
	    echo "$$pkg $$f $$(grep -o 'execs: [0-9]*' $$log | tail -n 1 | cut -d' ' -f2) executions" >>$$sum; \
	    if [ $$rc -ne 0 ]; then cat $$log; exit $$rc; fi; \
	  done; \
	done; \
	echo "== executions in $(FUZZTIME) per target"; cat $$sum

# Regenerates golden/ from the reference interpreter, the lowered programs
# simulate --print-schedule prints (lower/testdata/*.schedule), and the HTML report's
# expected screenshot layout (review/testdata). Explain every change in the commit.
golden:
	$(GO) run ./cmd/fusemax golden --dir golden
	$(GO) test -count=1 ./lower -run TestPrintScheduleGolden -args -update-schedule
	$(GO) test -count=1 ./review -run TestReportInBrowser -args -update-layout

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

# Speed and memory targets are checked here, not in timed unit tests.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Longer fuzzing of every parser (FUZZTIME each).
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./einsum/syntax
	$(GO) test -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME) ./einsum

# Regenerates golden/ from the reference interpreter. Explain every change in the commit.
golden:
	$(GO) run ./cmd/fusemax golden --dir golden

package llvm

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fusemax/fusemax/einsum/interp"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/tensor"
)

// cacheEntries lists the executables in a cache directory.
func cacheEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), ".") && !strings.HasPrefix(e.Name(), "llc-version-") {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestBuildCache runs a kernel from two goroutines at once on an empty
// cache, with a third at another shape: every run succeeds, the two at one
// shape with the same output, and they leave one entry per shape. Each
// compile costs a process pipeline (opt, llc, gcc), so the test runs as few
// as the checks need.
func TestBuildCache(t *testing.T) {
	needTools(t)
	dir := t.TempDir()
	t.Setenv("FUSEMAX_CACHE", dir)
	prog, err := kernels.Load("gemm")
	if err != nil {
		t.Fatal(err)
	}
	c := prog.Cascades[0]
	sizes, _, _ := c.Bind(map[string]int64{"K": 3, "M": 4, "N": 5})
	in, _ := interp.RandomInputs(c, sizes, 1)
	sizes2, _, _ := c.Bind(map[string]int64{"K": 3, "M": 4, "N": 6})
	in2, _ := interp.RandomInputs(c, sizes2, 1)
	outs := make([]*tensor.Dense, 3)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sz, x := sizes, in
			if i == 2 {
				sz, x = sizes2, in2
			}
			got, err := Run(c, sz, x, Options{DType: tensor.F32})
			if err != nil {
				t.Error(err)
				return
			}
			outs[i] = got["Z"]
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if abs, _, _ := tensor.MaxAbsDiff(outs[1], outs[0]); abs != 0 {
		t.Errorf("concurrent runs differ by %g", abs)
	}
	if n := cacheEntries(t, dir); len(n) != 2 {
		t.Fatalf("cache holds %v after runs at two shapes, want two entries", n)
	}
	// A hit runs the cached executable: replace the entries by ones that
	// fail and the run must report that failure.
	for _, e := range cacheEntries(t, dir) {
		if err := os.WriteFile(filepath.Join(dir, e), []byte("#!/bin/sh\necho cached >&2\nexit 3\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Exec(context.Background(), c, sizes, in, Options{DType: tensor.F32}); err == nil || !strings.Contains(err.Error(), "cached") {
		t.Errorf("run after replacing the entry: %v, want the entry's failure", err)
	}
	t.Setenv("FUSEMAX_CACHE", "off")
	if _, err := Run(c, sizes, in, Options{DType: tensor.F32}); err != nil {
		t.Errorf("with FUSEMAX_CACHE=off: %v", err)
	}
}

func TestPrune(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	prune(dir, 2)
	if n := cacheEntries(t, dir); len(n) != 2 {
		t.Errorf("after prune to 2: %v", n)
	}
}

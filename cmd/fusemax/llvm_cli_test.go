package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/lower/llvm"
	"github.com/fusemax/fusemax/tensor"
)

// smallBinding is fusemax-binding on an 8x8 array whose global buffer fits
// a query tile of 16: at P = 32 the mapping runs P in two groups.
var smallBinding = []string{"--mapping", "fusemax-binding",
	"--set", "arch.arrays.2d.rows=8", "--set", "arch.arrays.2d.cols=8", "--set", "arch.arrays.1d.length=8",
	"--set", "arch.memory.L3.capacity=2000 B"}

const smallShape = "B=1,H=1,E=16,F=16,M=32,P=32"

// TestEvalMappingCounts is the end-to-end check from the command line: the
// code follows the mapping (M0 = 8 rows, P in groups of 16) and its tile
// counts are the simulator's DRAM traffic (Q and AV once, K and V through
// BK and BV once per group: 2 * (512 + 1024 + 1024 + 512) B = simulate's
// 6144 B); its outputs agree with the interpreter's.
func TestEvalMappingCounts(t *testing.T) {
	t.Parallel()
	if _, err := llvm.FindTools(); err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	args := append([]string{"eval", "attention_1pass", "--shape", smallShape, "--backend", "llvm", "--dtype", "f32",
		"--count-accesses", "--out", filepath.Join(dir, "llvm")}, smallBinding...)
	out, e, code := run(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	if !strings.Contains(out, "M0=8,M1=4,P=32") {
		t.Errorf("the mapping's M0 = 8 rows was not used:\n%s", out)
	}
	want := map[string]string{ // TILE-READS TILE-WRITES
		"Q": "512 0", "BK": "1024 512", "BV": "1024 512", "AV": "0 512",
	}
	for name, w := range want {
		re := regexp.MustCompile(`(?m)^` + name + `\s+\d+\s+\d+\s+(\d+)\s+(\d+)$`)
		m := re.FindStringSubmatch(out)
		if m == nil || m[1]+" "+m[2] != w {
			t.Errorf("%s: tile counts %v, want %s\n%s", name, m, w, out)
		}
	}
	sim, e, code := run(t, append([]string{"simulate", "attention_1pass", "--arch", "fusemax-cloud", "--shape", smallShape}, smallBinding...)...)
	if code != 0 || !regexp.MustCompile(`(?m)^traffic\s+6144 B$`).MatchString(sim) {
		t.Errorf("simulate: exit %d, %s\n%s; want traffic 6144 B", code, e, sim)
	}
	if _, e, code := run(t, "eval", "attention_1pass", "--shape", "E=16,F=16,M=32,M0=8,P=32", "--out", filepath.Join(dir, "ref")); code != 0 {
		t.Fatal(e)
	}
	got, err := tensor.LoadNPY(filepath.Join(dir, "llvm", "AV.npy"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := tensor.LoadNPY(filepath.Join(dir, "ref", "AV.npy"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range ref.Data {
		if d := got.Data[i] - ref.Data[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("AV[%d] = %g, interpreter %g", i, got.Data[i], ref.Data[i])
		}
	}
}

// TestEmitLLVMMapping checks that the mapping's groups are the outermost
// loop: the IR steps a loop by the tile (16) with a mapping, and by the
// default tile without one.
func TestEmitLLVMMapping(t *testing.T) {
	t.Parallel()
	ll := filepath.Join(t.TempDir(), "k.ll")
	args := append([]string{"emit-llvm", "attention_1pass", "--shape", smallShape, "-o", ll}, smallBinding...)
	if _, e, code := run(t, args...); code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	b, err := os.ReadFile(ll)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "add nsw i64 %") || !regexp.MustCompile(`add nsw i64 %\d+, 16\b`).Match(b) {
		t.Errorf("no loop stepping by the mapping's tile of 16 in:\n%.600s", b)
	}
}

func TestLLVMMappingErrors(t *testing.T) {
	t.Parallel()
	shape := "E=16,F=16,M=32,P=32"
	cases := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"emit-llvm", "attention_1pass", "--shape", shape, "--mapping", "nope"}, 1, `no mapping spec "nope"`},
		{[]string{"emit-llvm", "attention_1pass", "--shape", shape, "--mapping", "fusemax-binding"}, 1,
			"--mapping fusemax-binding on fusemax-cloud: specs/mapping/fusemax-binding.yaml:11:7: split of M into M1, M0: 256 does not divide M=32 (the mapping sets M0 = 2d.rows = 256"},
		{[]string{"emit-llvm", "attention_1pass", "--shape", shape, "--mapping", "fusemax-binding", "--tile", "P=8"}, 2, "give either it or --tile"},
		{[]string{"emit-llvm", "attention_1pass", "--shape", shape, "--arch", "fusemax-cloud"}, 2, "give --mapping too"},
		{append([]string{"emit-llvm", "attention_1pass", "--shape", shape, "--set", "foo=1"}, smallBinding...), 2, "say which spec"},
		{append([]string{"emit-llvm", "attention_1pass", "--shape", "B=2," + shape}, smallBinding...), 1, "give B=1"},
		{append([]string{"emit-llvm", "attention_1pass", "--shape", shape, "--set", "mapping.tile.E=8"}, smallBinding...), 1,
			"the mapping splits E and P into groups; the LLVM backend runs groups of one rank only"},
		{append([]string{"emit-llvm", "attention_1pass", "--shape", shape, "--set", "mapping.tile.E=8"}, smallBinding[:8]...), 1,
			"the mapping splits E into groups of 8, but the iterate block at kernels/attention_1pass.einsum:18:3 cannot run one group at a time"},
		{[]string{"emit-llvm", "attention_3pass", "--shape", "E=64,F=64,M=1024,P=16384", "--mapping", "flat"}, 1,
			"--mapping flat: the mapping splits P into groups of 1024; the LLVM backend runs groups around an iterate block, and cascade attention_3pass has 0"},
		{[]string{"eval", "attention_1pass", "--shape", shape, "--mapping", "fusemax-binding", "--out", t.TempDir()}, 2, "need --backend llvm"},
	}
	for _, c := range cases {
		_, e, code := run(t, c.args...)
		if code != c.code || !strings.Contains(e, c.err) || strings.Contains(e, "panic") {
			t.Errorf("fusemax %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, e, c.code, c.err)
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/tensor"
)

// TestEvalInputsNoRandomFill: inputs given as files are read, not drawn and
// then replaced, so evalInputs allocates about their data alone.
func TestEvalInputsNoRandomFill(t *testing.T) {
	t.Parallel()
	prog, err := kernels.Load("gemm")
	if err != nil {
		t.Fatal(err)
	}
	c := prog.Cascades[0]
	sizes, _, err := c.Bind(map[string]int64{"K": 256, "M": 256, "N": 256})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	for _, in := range c.Inputs {
		p := filepath.Join(dir, in.Name+".npy")
		if err := tensor.SaveNPY(p, tensor.Random(5, in.Name, tensor.UniformDist, in.Shape(sizes)...), tensor.F32); err != nil {
			t.Fatal(err)
		}
		files = append(files, in.Name+"="+p)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got, err := evalInputs(c, sizes, 1, files)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	data := int64(0)
	for _, d := range got {
		data += int64(8 * len(d.Data))
	}
	if alloc := int64(after.TotalAlloc - before.TotalAlloc); alloc > data+data/2 {
		t.Errorf("evalInputs allocated %d bytes for %d bytes of inputs", alloc, data)
	}
}

// TestEvalBadInputFiles: corrupt or endless files are exit-1 errors that
// name the file, found before any data is read.
func TestEvalBadInputFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "c.npy")
	os.WriteFile(corrupt, []byte("\x93NUMPY\x01\x00\x20\x00{'descr': '<f4', 'shape': (3,"), 0o644)
	huge := filepath.Join(dir, "h.npy")
	os.WriteFile(huge, append([]byte("\x93NUMPY\x01\x00\x46\x00{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999, 99999), }\n"), make([]byte, 8)...), 0o644)
	cases := []struct{ file, want string }{
		{corrupt, "file ends inside the header"},
		{huge, "more than 2^48 bytes"},
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		cases = append(cases, struct{ file, want string }{"/dev/zero", "not an .npy file"})
	}
	for _, tc := range cases {
		_, e, code := run(t, "eval", "gemm", "--shape", "K=2,M=2,N=2", "--input", "A="+tc.file, "--out", filepath.Join(dir, "out"))
		if code != 1 || !strings.Contains(e, tc.file) || !strings.Contains(e, tc.want) || strings.Contains(e, "runtime error") {
			t.Errorf("--input A=%s: exit %d, %q; want exit 1 with %q", tc.file, code, e, tc.want)
		}
	}
}

// TestEvalThreads: --threads writes byte-identical files, says when a
// cascade runs on one worker anyway, and is a usage error out of range.
func TestEvalThreads(t *testing.T) {
	t.Parallel()
	needLLVM(t)
	dir := t.TempDir()
	shape := "E=8,F=8,M=64,M0=16,P=96"
	var files [2][]byte
	for i, n := range []string{"1", "3"} {
		out := filepath.Join(dir, n)
		if _, e, code := run(t, "eval", "attention_1pass", "--shape", shape, "--backend", "llvm", "--dtype", "f32", "--tile", "P=16", "--threads", n, "--out", out); code != 0 {
			t.Fatal(e)
		}
		files[i], _ = os.ReadFile(filepath.Join(out, "AV.npy"))
	}
	if len(files[0]) == 0 || string(files[0]) != string(files[1]) {
		t.Error("AV.npy differs between 1 and 3 threads")
	}
	if _, e, code := run(t, "eval", "gemm", "--shape", "K=2,M=2,N=2", "--backend", "llvm", "--threads", "2", "--out", filepath.Join(dir, "g")); code != 0 || !strings.Contains(e, "runs on one worker") {
		t.Errorf("gemm --threads 2: exit %d, %q", code, e)
	}
	if _, e, code := run(t, "eval", "gemm", "--shape", "K=2,M=2,N=2", "--backend", "llvm", "--threads", "0", "--out", filepath.Join(dir, "g")); code != 2 || !strings.Contains(e, "--threads 0") {
		t.Errorf("--threads 0: exit %d, %q", code, e)
	}
}

// TestEvalLLVMMemoryBudget: the compiled kernel is sized by what it holds
// (inputs, outputs, rings and tiles), not by the interpreter's whole
// intermediates: a shape whose QK alone would exceed the budget runs.
func TestEvalLLVMMemoryBudget(t *testing.T) {
	t.Parallel()
	needLLVM(t)
	dir := t.TempDir()
	args := []string{"eval", "attention_1pass", "--shape", "E=8,F=8,M=4096,M0=16,P=4096", "--max-memory", "8M", "--dtype", "f32"}
	if _, e, code := run(t, append(args, "--out", filepath.Join(dir, "i"))...); code != 1 || !strings.Contains(e, "over the memory budget") {
		t.Errorf("interpreter: exit %d, %q; want the budget refused", code, e)
	}
	if _, e, code := run(t, append(args, "--backend", "llvm", "--out", filepath.Join(dir, "l"))...); code != 0 {
		t.Errorf("llvm: exit %d, %q", code, e)
	}
}

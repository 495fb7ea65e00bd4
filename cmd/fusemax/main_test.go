package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/lower/llvm"
	"github.com/fusemax/fusemax/tensor"
)

var binary string

// runCLI, set in the environment, makes the test binary run the command
// itself (the test binary holds package main), so the tests start the same
// code as a user's fusemax without a separate go build.
const runCLI = "FUSEMAX_TEST_RUN_CLI"

// TestMain: the tests run command lines through execute, the function
// main calls, so exit statuses and what reaches stdout and stderr are
// what is checked; runProcess and the interrupt test start the test binary
// as the command itself, for what only a process shows (os.Exit, signals).
func TestMain(m *testing.M) {
	if os.Getenv(runCLI) == "1" {
		main()
		os.Exit(0)
	}
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	binary = exe
	os.Setenv(runCLI, "1")
	os.Exit(m.Run())
}

// run runs one command line in this process, with an empty stdin.
func run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = execute(context.Background(), args, strings.NewReader(""), &o, &e)
	return o.String(), e.String(), code
}

// runProcess runs one command line as a process of its own.
func runProcess(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExitStatuses(t *testing.T) {
	t.Parallel()
	bad := writeFile(t, "bad.einsum", "cascade c {\n  ranks M\n  input A[m]\n  output Z\n  Z = B[m]\n}\n")
	cases := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"check", "attention_1pass"}, 0, "kernels/attention_1pass.einsum: ok (1 cascade)", ""},
		{[]string{"check", bad}, 1, "", "bad.einsum:5:7: undefined tensor B\n\t  Z = B[m]\n\t      ^"},
		{[]string{"check"}, 2, "", "requires at least 1 arg"},
		{[]string{"nonsense"}, 2, "", "unknown command"},
		{[]string{"passes", "attention_3pass", "-o", "yaml"}, 2, "", "-o must be table or json"},
		{[]string{"passes", "attention_3pass", "--rank", "Z"}, 1, "", "no rank"},
		{[]string{"eval", "attention_1pass", "--shape", "E=4,F=4,M=10,M0=4,P=2", "--out", t.TempDir()}, 1, "", "does not divide"},
		{[]string{"eval", "attention_1pass", "--shape", "E=4,F=4,M=8,M0=4,P=2"}, 2, "", "--out DIR is required"},
		{[]string{"eval", "attention_1pass", "--shape", "E=4,,", "--out", t.TempDir()}, 2, "", "is not NAME=SIZE"},
		{[]string{"kernels", "nope"}, 1, "", "no built-in kernel"},
		{[]string{"no_such_file.einsum"}, 2, "", "unknown command"},
		{[]string{"check", "no_such_file.einsum"}, 1, "", "no such file, and no built-in kernel"},
	}
	for _, c := range cases {
		out, errOut, code := runProcess(t, c.args...)
		if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(errOut, c.err) {
			t.Errorf("fusemax %s: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", strings.Join(c.args, " "), code, out, errOut, c.code, c.out, c.err)
		}
		if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
			t.Errorf("fusemax %s: a Go stack trace reached the user:\n%s", strings.Join(c.args, " "), errOut)
		}
	}
}

func TestPassesJSON(t *testing.T) {
	t.Parallel()
	out, _, code := run(t, "passes", "attention_3pass", "-o", "json")
	if code != 0 || !strings.Contains(out, `"passes": 3`) || !strings.Contains(out, `"rank": "M"`) {
		t.Errorf("exit %d:\n%s", code, out)
	}
	again, _, _ := run(t, "passes", "attention_3pass", "-o", "json")
	if again != out {
		t.Error("passes -o json is not deterministic")
	}
}

func TestEvalWritesNPY(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "out")
	_, errOut, code := run(t, "eval", "attention_1pass", "--shape", "E=4,F=3,M=8,M0=4,P=2,B=9", "--seed", "7", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "does not use B; ignored") {
		t.Errorf("no note about the unused size: %q", errOut)
	}
	for _, n := range []string{"Q", "K", "V", "AV"} {
		b, err := os.ReadFile(filepath.Join(dir, n+".npy"))
		if err != nil || !bytes.HasPrefix(b, []byte("\x93NUMPY")) {
			t.Errorf("%s.npy: %v", n, err)
		}
	}
	// The written inputs read back give the same outputs, bit for bit.
	dir2 := filepath.Join(t.TempDir(), "again")
	_, errOut, code = run(t, "eval", "attention_1pass", "--shape", "E=4,F=3,M=8,M0=4,P=2",
		"--input", "Q="+filepath.Join(dir, "Q.npy"), "--input", "K="+filepath.Join(dir, "K.npy"), "--input", "V="+filepath.Join(dir, "V.npy"), "--seed", "99", "--out", dir2)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "AV.npy"))
	b, _ := os.ReadFile(filepath.Join(dir2, "AV.npy"))
	if !bytes.Equal(a, b) {
		t.Error("evaluating the written inputs gives another AV")
	}
	// A file of the wrong shape is refused and nothing is written.
	dir3 := filepath.Join(t.TempDir(), "none")
	_, errOut, code = run(t, "eval", "attention_1pass", "--shape", "E=5,F=3,M=8,M0=4,P=2", "--input", "Q="+filepath.Join(dir, "Q.npy"), "--out", dir3)
	if code != 1 || !strings.Contains(errOut, "shape [4 2], but Q is declared") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(dir3); err == nil {
		t.Error("a failed eval created its output folder")
	}
}

func TestFmtWrite(t *testing.T) {
	t.Parallel()
	p := writeFile(t, "u.einsum", "cascade c{ranks M,P input QK[m,p] output GM[p] GM[p]=QK[m,p]::∨_m max(∪)}")
	if _, e, code := run(t, "fmt", "-w", p); code != 0 {
		t.Fatal(e)
	}
	got, _ := os.ReadFile(p)
	want := "cascade c {\n  ranks M, P\n  input QK[m, p]\n  output GM[p]\n  GM[p] = QK[m, p] :: max(m)\n}\n"
	if string(got) != want {
		t.Errorf("fmt -w wrote:\n%s", got)
	}
	if out, _, _ := run(t, "fmt", "-l", p); out != "" {
		t.Errorf("fmt -l lists a formatted file: %q", out)
	}
}

func TestAnalyzeDefault(t *testing.T) {
	t.Parallel()
	out, e, code := run(t, "analyze", "--shape", "E=8,F=8,M=64,M0=16,P=8,K=16,N=4")
	if code != 0 {
		t.Fatal(e)
	}
	squeezed := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"attention_3pass 3 over M", "attention_2pass 2 over M", "attention_1pass 1 over M", "toy_cascade1 2 over K"} {
		if !strings.Contains(squeezed, want) {
			t.Errorf("analyze output lacks %q:\n%s", want, out)
		}
	}
}

func needLLVM(t *testing.T) {
	t.Helper()
	if _, err := llvm.FindTools(); err != nil {
		t.Skipf("LLVM backend tests need LLVM 14 and gcc: %v", err)
	}
}

// The compiled cascade writes the same files as the interpreter, within
// float32 rounding.
func TestEvalBackendLLVM(t *testing.T) {
	t.Parallel()
	needLLVM(t)
	shape := "E=8,F=6,M=64,M0=16,P=12"
	ref, comp := filepath.Join(t.TempDir(), "ref"), filepath.Join(t.TempDir(), "llvm")
	if _, e, code := run(t, "eval", "attention_1pass", "--shape", shape, "--out", ref); code != 0 {
		t.Fatal(e)
	}
	out, e, code := run(t, "eval", "attention_1pass", "--shape", shape, "--backend", "llvm", "--dtype", "f32", "--count-accesses", "--out", comp)
	if code != 0 {
		t.Fatal(e)
	}
	if !strings.Contains(out, "TENSOR  READS  WRITES") || !strings.Contains(out, "AV      0      72") {
		t.Errorf("access counts:\n%s", out)
	}
	a, err := tensor.LoadNPY(filepath.Join(ref, "AV.npy"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := tensor.LoadNPY(filepath.Join(comp, "AV.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if abs, _, err := tensor.MaxAbsDiff(a, b); err != nil || abs > 1e-5 {
		t.Errorf("llvm vs interpreter: max |Δ| = %g (%v)", abs, err)
	}
	if _, e, code := run(t, "eval", "attention_1pass", "--shape", shape, "--storage", "bf16", "--out", comp); code != 2 || !strings.Contains(e, "need --backend llvm") {
		t.Errorf("--storage without --backend llvm: exit %d, %s", code, e)
	}
}

func TestEmitLLVMAndNumerics(t *testing.T) {
	t.Parallel()
	needLLVM(t)
	ll := filepath.Join(t.TempDir(), "a.ll")
	if _, e, code := run(t, "emit-llvm", "attention_1pass", "--shape", "E=4,F=4,M=16,M0=4,P=8", "-o", ll); code != 0 {
		t.Fatal(e)
	}
	if b, _ := os.ReadFile(ll); !bytes.Contains(b, []byte("define void @fusemax_attention_1pass(")) {
		t.Errorf("emit-llvm wrote no function:\n%.400s", b)
	}
	out, e, code := run(t, "numerics", "attention_1pass", "attention_3pass", "--shape", "E=8,F=8,M=64,M0=16,P=16")
	if code != 0 || !strings.Contains(out, "attention_1pass") || !strings.Contains(out, "bf16") {
		t.Errorf("numerics: exit %d\n%s\n%s", code, out, e)
	}
}

func TestSimulate(t *testing.T) {
	t.Parallel()
	out, e, code := run(t, "simulate", "--config", "fusemax-micro24/binding", "--workload", "BERT", "--seq", "1K", "-o", "json")
	if code != 0 {
		t.Fatal(e)
	}
	for _, key := range []string{`"latency_s"`, `"cycles"`, `"traffic_bytes": 402653184`, `"energy_pj"`, `"utilization"`, `"einsum_activity"`, `"buffer_peak_bytes"`, `"area_um2"`, `"P1": 4`} {
		if !strings.Contains(out, key) {
			t.Errorf("simulate -o json lacks %s", key)
		}
	}
	again, _, _ := run(t, "simulate", "--config", "fusemax-micro24/binding", "--workload", "BERT", "--seq", "1K", "-o", "json")
	if again != out {
		t.Error("simulate is not deterministic")
	}
	bad := writeFile(t, "arch.yaml", "name: x\nclock: 940 MHz\nbogus_key: 3\n")
	cases := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"simulate", "--config", "fusemax-micro24/nope", "--workload", "BERT", "--seq", "1K"}, 1, "not one of the built-in"},
		{[]string{"simulate", "--config", "fusemax-micro24/binding", "--workload", "BERT", "--seq", "1K", "--set", "arch.clock=-3"}, 1, "needs a unit"},
		{[]string{"simulate", "attention_1pass", "--arch", bad, "--mapping", "fusemax-binding", "--shape", "B=1,H=1,E=64,F=64,M=1024,P=1024"}, 1, "arch.yaml:3:1"},
		{[]string{"simulate", "--config", "fusemax-micro24/binding", "--workload", "BERT", "--seq", "1K", "-o", "xml"}, 2, ""},
	}
	for _, c := range cases {
		_, e, code := run(t, c.args...)
		if code != c.code || !strings.Contains(e, c.err) || strings.Contains(e, "goroutine") {
			t.Errorf("fusemax %s: exit %d, stderr %q; want exit %d and %q", strings.Join(c.args, " "), code, e, c.code, c.err)
		}
	}
}

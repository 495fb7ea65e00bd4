package main

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fusemax/fusemax/lower"
)

// TestRejections: every rejection of an input is exit 1 with a clear
// message (exit 2 only for bad usage), never a Go crash, and nothing is left
// half-written (issue 10).
func TestRejections(t *testing.T) {
	t.Parallel()
	deep := writeFile(t, "deep.einsum", "cascade c {\n ranks K\n input A[k]\n output Y[k]\n Y[k] = "+strings.Repeat("(", 50000)+"A[k]"+strings.Repeat(")", 50000)+"\n}\n")
	nul := writeFile(t, "nul.einsum", "cascade c {\n  ranks K\n  in\x00put A[k]\n}\n")
	twice := writeFile(t, "twice.einsum", "cascade a {\n  ranks K\n  input A[k]\n  output Z[k]\n  Z[k] = A[k]\n}\n\ncascade b {\n  ranks K\n  input A[k]\n  output Z[k]\n  Z[k] = 2 * A[k]\n}\n")
	dir := t.TempDir()
	out := dir + "/out"
	sim := []string{"simulate", "--config", "fusemax-micro24/binding", "--workload", "BERT", "--seq", "1K", "--set"}
	cases := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"check", deep}, 1, "deep.einsum:5:264: nested more than 256 levels deep"},
		{[]string{"check", nul}, 1, "nul.einsum:3:5: file contains a NUL byte: not a text file\n\t  in\\x00put A[k]\n\t    ^"},
		{[]string{"check", dir}, 1, "is a directory; name its .einsum files"},
		// The tensors are sized against the memory budget before any is allocated.
		{[]string{"eval", "attention_3pass", "--shape", "E=64,F=64,M=64K,P=64K", "--out", out}, 1, "needs 108.2 GiB for its tensors at this shape, over the memory budget"},
		{[]string{"eval", "attention_3pass", "--shape", "E=1M,F=64,M=1M,P=64", "--out", out}, 1, "largest: K 1099511627776 elements (16.0 TiB)"},
		{[]string{"eval", "attention_3pass", "--shape", "E=8,F=8,M=8,P=8", "--max-memory", "1K", "--out", out}, 1, "over the memory budget of 1.0 KiB"},
		{[]string{"eval", "attention_3pass", "--shape", "E=8,F=8,M=8,P=8", "--max-memory", "lots", "--out", out}, 2, `--max-memory: "lots" is not a positive byte count`},
		{[]string{"analyze", "attention_1pass", "--shape", "E=64,F=64,M=64K,M0=64,P=64K"}, 1, "over the memory budget"},
		// Bad usage is exit 2 with what to do instead.
		{[]string{"completion", "tcsh"}, 2, `unknown command "tcsh" (choose one of: bash, fish, powershell, zsh)`},
		{[]string{"emit-llvm", "toy_cascade1", "--shape", "K=8", "--tile", "K=4", "--no-tile"}, 2, "--tile and --no-tile contradict each other"},
		{[]string{"simulate", "--config", "fusemax-micro24/binding", "--arch", "flat-cloud", "--workload", "BERT", "--seq", "1K"}, 2, "--config names its own arch and mapping"},
		// Two cascades whose outputs are 2x apart do not agree.
		{[]string{"analyze", twice}, 1, "b: output Z differs from a's (max |Δ| 1, relative 1)"},
		// Spec values out of range are errors, not NaN or a wrapped integer.
		{append(sim, "arch.clock=1e300GHz"), 1, `arch.clock: "1e300GHz" is out of range`},
		{append(sim, "arch.arrays.2d.rows=1e30"), 1, `"1e30" is out of range`},
		{append(sim, "arch.arrays.2d.rows=1e20"), 1, "arch.arrays.2d.rows = 1e20 is out of range: a count is at most 2^53"},
	}
	for _, c := range cases {
		_, errOut, code := run(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.err) {
			t.Errorf("fusemax %.120s: exit %d, stderr %.300q; want exit %d, %q", strings.Join(c.args, " "), code, errOut, c.code, c.err)
		}
		if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") || len(errOut) > 2000 {
			t.Errorf("fusemax %.120s: a stack trace or a flood reached the user (%d bytes)", strings.Join(c.args, " "), len(errOut))
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a rejected eval created %s", out)
	}
}

func TestFiniteReport(t *testing.T) {
	t.Parallel()
	r := &lower.Report{LatencyS: 1, EnergyByAction: map[string]float64{"DRAM read": math.Inf(1)}, Utilization: map[string]float64{"2d": math.NaN()}}
	err := finiteReport(r)
	if err == nil || !strings.Contains(err.Error(), "energy of DRAM read = +Inf") || !strings.Contains(err.Error(), "utilization of 2d = NaN") {
		t.Errorf("finiteReport = %v", err)
	}
	if err := finiteReport(&lower.Report{LatencyS: 1}); err != nil {
		t.Error(err)
	}
}

// TestInterruptDuringWrite: SIGINT while eval writes its files leaves either
// every file in place or none, and no temporary folder (issue 10 item 12).
func TestInterruptDuringWrite(t *testing.T) {
	t.Parallel()
	src := writeFile(t, "copy.einsum", "cascade c {\n  ranks K\n  input A[k]\n  output Z[k]\n  Z[k] = A[k]\n}\n")
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	cmd := exec.Command(binary, "eval", src, "--shape", "K=8M", "--out", out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m, _ := filepath.Glob(filepath.Join(parent, ".fusemax-out-*")); len(m) > 0 {
			break
		}
		time.Sleep(200 * time.Microsecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Errorf("exit %v, want status 130", err)
	}
	left, _ := filepath.Glob(filepath.Join(parent, ".fusemax-*"))
	files, _ := filepath.Glob(filepath.Join(out, "*.npy"))
	if len(left) > 0 || (len(files) != 0 && len(files) != 2) {
		t.Errorf("after the interrupt: temporary %v, outputs %v", left, files)
	}
}

// TestOutputFiles: -o and fmt -w replace regular files atomically, follow
// symbolic links (the link stays), write through FIFOs and devices instead
// of replacing them, and refuse a directory (issue 10 items 11, 13).
func TestOutputFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	emit := func(out string) (string, int) {
		_, errOut, code := run(t, "emit-llvm", "toy_cascade1", "--shape", "K=8", "-o", out)
		return errOut, code
	}
	target := filepath.Join(dir, "real.ll")
	os.WriteFile(target, []byte("old"), 0o600)
	link := filepath.Join(dir, "link.ll")
	if err := os.Symlink("real.ll", link); err != nil {
		t.Fatal(err)
	}
	if errOut, code := emit(link); code != 0 {
		t.Fatalf("-o LINK: exit %d, %s", code, errOut)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("-o LINK replaced the link: %v", err)
	}
	if b, _ := os.ReadFile(target); !strings.Contains(string(b), "define") {
		t.Errorf("-o LINK did not write the link's target")
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
		t.Errorf("-o FILE changed the permissions to %v", st.Mode().Perm())
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- b
	}()
	if errOut, code := emit(fifo); code != 0 {
		t.Fatalf("-o FIFO: exit %d, %s", code, errOut)
	}
	if b := <-got; !strings.Contains(string(b), "define") {
		t.Errorf("-o FIFO: the reader got %d bytes", len(b))
	}
	if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("-o FIFO replaced the FIFO: %v", err)
	}
	if errOut, code := emit(dir); code != 1 || !strings.Contains(errOut, "is a directory; name a file to write") {
		t.Errorf("-o DIR: exit %d, %q", code, errOut)
	}
	if errOut, code := emit(filepath.Join(dir, "no", "such.ll")); code != 1 || !strings.Contains(errOut, "no does not exist; create it first") || strings.Contains(errOut, ".fusemax-") {
		t.Errorf("-o NODIR/FILE: exit %d, %q", code, errOut)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := run(t, "eval", "toy_cascade1", "--shape", "K=8", "--out", file); code != 1 || !strings.Contains(errOut, "is a file; name a folder") {
		t.Errorf("eval --out FILE: exit %d, %q", code, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Errorf("eval --out FILE changed the file: %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".fusemax-*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestDefaultEnergyProfile: simulate of a configuration that an experiment
// evaluates uses that experiment's profile by default, as reproduce does
// (they were 56% apart on the README's example); other specs default to
// physical.
func TestDefaultEnergyProfile(t *testing.T) {
	t.Parallel()
	energy := func(args ...string) string {
		out, errOut, code := run(t, append([]string{"simulate", "--workload", "BERT", "--seq", "1K", "-o", "csv"}, args...)...)
		if code != 0 {
			t.Fatalf("simulate %v: exit %d: %s", args, code, errOut)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		return lines[len(lines)-1]
	}
	cfg := []string{"--config", "fusemax-micro24/binding"}
	if a, b := energy(cfg...), energy(append(cfg, "--energy-profile", "fusemax-micro24")...); a != b {
		t.Errorf("default %q, fusemax-micro24 %q", a, b)
	}
	if a, b := energy(cfg...), energy(append(cfg, "--energy-profile", "physical")...); a == b {
		t.Errorf("the profiles give the same numbers (%q); the test cannot tell them apart", a)
	}
	spec := []string{"attention_1pass", "--arch", "fusemax-cloud", "--mapping", "fusemax-binding"}
	if a, b := energy(spec...), energy(append(spec, "--energy-profile", "physical")...); a != b {
		t.Errorf("--arch/--mapping default %q, physical %q", a, b)
	}
}

package main

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/lower"
)

// TestRejections: every rejection of an input is exit 1 with a clear
// message (exit 2 only for bad usage), never a Go crash, and nothing is left
// half-written (issue 10).
func TestRejections(t *testing.T) {
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
	r := &lower.Report{LatencyS: 1, EnergyByAction: map[string]float64{"DRAM read": math.Inf(1)}, Utilization: map[string]float64{"2d": math.NaN()}}
	err := finiteReport(r)
	if err == nil || !strings.Contains(err.Error(), "energy of DRAM read = +Inf") || !strings.Contains(err.Error(), "utilization of 2d = NaN") {
		t.Errorf("finiteReport = %v", err)
	}
	if err := finiteReport(&lower.Report{LatencyS: 1}); err != nil {
		t.Error(err)
	}
}

package main

import (
	"os"
	"strings"
	"testing"
)

// TestRejections: every rejection of an input is exit 1 with a clear
// message (exit 2 only for bad usage), never a Go crash, and nothing is left
// half-written (issue 10).
func TestRejections(t *testing.T) {
	deep := writeFile(t, "deep.einsum", "cascade c {\n ranks K\n input A[k]\n output Y[k]\n Y[k] = "+strings.Repeat("(", 50000)+"A[k]"+strings.Repeat(")", 50000)+"\n}\n")
	nul := writeFile(t, "nul.einsum", "cascade c {\n  ranks K\n  in\x00put A[k]\n}\n")
	dir := t.TempDir()
	out := dir + "/out"
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

package interp

import (
	"math"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/einsum"
)

func TestFootprint(t *testing.T) {
	prog, err := einsum.Parse("t.einsum", []byte("cascade c {\n ranks M, P\n input A[m, p]\n output Z[p]\n Z[p] = A[m, p] :: sum(m)\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := prog.Cascades[0]
	f, err := FootprintOf(c, map[string]int64{"M": 1000, "P": 10})
	if err != nil {
		t.Fatal(err)
	}
	// A: 10,000 inputs at 16 B; Z: 10 at 9 B.
	if f.Total != 160090 || f.Tensors[0].Name != "A" || f.Tensors[0].Elems != 10000 {
		t.Errorf("footprint = %+v", f)
	}
	if err := f.Check("c", 160090); err != nil {
		t.Errorf("a budget of exactly the footprint: %v", err)
	}
	err = f.Check("c", 160089)
	if err == nil || !strings.Contains(err.Error(), "needs 156.3 KiB") || !strings.Contains(err.Error(), "A 10000 elements") || !strings.Contains(err.Error(), "--max-memory") {
		t.Errorf("over budget: %v", err)
	}
	// Products past int64 saturate instead of wrapping to a small number.
	f, err = FootprintOf(c, map[string]int64{"M": 1 << 40, "P": 1 << 40})
	if err != nil || f.Total != math.MaxInt64 || f.Check("c", 1<<40) == nil {
		t.Errorf("overflowing shape: %+v, %v", f, err)
	}
}

func TestParseBytes(t *testing.T) {
	ok := map[string]int64{"512M": 512 << 20, "8G": 8 << 30, "1.5GiB": 3 << 29, "100": 100, "2k": 2048, "1T": 1 << 40}
	for s, want := range ok {
		if got, err := ParseBytes(s); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "-1G", "1x", "NaN", "inf", "1e30G", "G"} {
		if _, err := ParseBytes(s); err == nil {
			t.Errorf("ParseBytes(%q) accepted", s)
		}
	}
}

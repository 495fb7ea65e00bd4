package einsum_test

import (
	"strings"
	"testing"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/kernels"
)

// Cascade 5 is checked from the kernel library, which holds the text.
func TestCheckCascade5(t *testing.T) {
	src, _ := kernels.Source("attention_1pass")
	p, err := einsum.Parse("attention_1pass.einsum", src)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Cascades[0]
	if len(c.Einsums) != 17 || len(c.Loops) != 1 || len(c.Loops[0].Body) != 11 {
		t.Fatalf("einsums=%d loops=%d", len(c.Einsums), len(c.Loops))
	}
	extents := map[string]string{
		"RM":  "M1 + 1, P",
		"RNV": "F, M1 + 1, P",
		"QK":  "M1, M0, P",
		"BK":  "E, M1, M0",
		"AV":  "F, P",
	}
	for name, want := range extents {
		tn := c.Tensor(name)
		var got []string
		for _, d := range tn.Dims {
			got = append(got, d.Extent.String())
		}
		if strings.Join(got, ", ") != want {
			t.Errorf("%s extents = %s, want %s", name, strings.Join(got, ", "), want)
		}
	}
	byName := func(n string) *einsum.Einsum {
		for _, e := range c.Einsums {
			if e.Name() == n && e.Loop != nil {
				return e
			}
		}
		return nil
	}
	lm := byName("LM")
	if len(lm.Reductions) != 1 || lm.Reductions[0].Op != einsum.Max || lm.Reductions[0].Vars[0].Name != "M0" {
		t.Errorf("LM reductions: %+v", lm.Reductions)
	}
	qk := byName("QK")
	if got := rankNames(qk.Vars); got != "M0,P,E" {
		t.Errorf("QK vars = %s (the loop's m1 is fixed, e is reduced last)", got)
	}
	if got := rankNames(byName("SLNV").ReducedVars()); got != "M0" {
		t.Errorf("SLNV reduces %s", got)
	}
	sizes, unused, err := c.Bind(map[string]int64{"E": 2, "F": 3, "M": 8, "P": 4, "M0": 4, "B": 7})
	if err != nil || sizes["M1"] != 2 || len(unused) != 1 || unused[0] != "B" {
		t.Errorf("Bind: %v %v %v", sizes, unused, err)
	}
	if _, _, err := c.Bind(map[string]int64{"E": 2, "F": 3, "M": 10, "P": 4, "M0": 4}); err == nil || !strings.Contains(err.Error(), "does not divide") {
		t.Errorf("Bind with M0 not dividing M: %v", err)
	}
	if _, _, err := c.Bind(map[string]int64{"E": 2, "F": 3, "M": 8}); err == nil || !strings.Contains(err.Error(), "needs the size of") {
		t.Errorf("Bind with missing sizes: %v", err)
	}
}

func rankNames(rs []*einsum.Rank) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = r.Name
	}
	return strings.Join(s, ",")
}

func FuzzCheck(f *testing.F) {
	for _, n := range kernels.Names() {
		src, _ := kernels.Source(n)
		f.Add(string(src))
	}
	f.Add("cascade c { ranks K\n input A[k], B[k]\n output Z\n Y = A[k] * B[k]; Z = Y * A[k] }")
	f.Add("cascade c { ranks E, M, P\n input Q[e, p], K[e, m]\n output Z[p]\n R[0, p] = 0\n iterate m until m >= M { R[m+1, p] = R[m, p] + Q[e, p] * K[e, m] }\n Z[p] = R[M, p] }")
	f.Fuzz(func(t *testing.T, src string) {
		p, err := einsum.Parse("fuzz.einsum", []byte(src))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.einsum:") {
				t.Fatalf("error without a position: %v", err)
			}
			_ = einsum.Render(err, []byte(src))
			return
		}
		for _, c := range p.Cascades {
			for _, tn := range c.Tensors {
				_ = tn.Size().String()
			}
		}
	})
}

package passes_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/passes"
)

func cascade(t testing.TB, src, name string) *einsum.Cascade {
	t.Helper()
	p, err := einsum.Parse(name+".fm", []byte(src))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	c := p.Cascade(name)
	if c == nil {
		t.Fatalf("no cascade %s", name)
	}
	return c
}

type want struct {
	src, name, rank string
	passes          int
	einsums         string // NAME:PASS in execution order
	retained        string // TENSOR SIZE FROM→TO; ...
	chains          []string
}

var cases = []want{
	{attention3, "attention_3pass", "M", 3,
		"QK:1 GM:1 SN:2 SD:2 A:3 AV:3",
		"QK M×P 1→2; SN M×P 2→3",
		[]string{
			"GM reduces all of m in pass 1; SN needs GM and QK[m, p] again → pass 2",
			"SD reduces all of m in pass 2; A needs SD and SN[m, p] again → pass 3",
		}},
	{attention2, "attention_2pass", "M", 2,
		"BK:1 BV:2 RM:1 RD:1 QK:1 LM:1 RM:1 SLD:1 RD:1 A:2 AV:2",
		"QK M×P 1→2",
		[]string{"RM and RD are final only after all of m1 in pass 1; A needs RM, RD and QK[m1, m0, p] again → pass 2"}},
	{attention1, "attention_1pass", "M", 1,
		"BK:1 BV:1 RM:1 RD:1 RNV:1 QK:1 LM:1 RM:1 SLN:1 SLD:1 SLNV:1 PRM:1 SPD:1 RD:1 SPNV:1 RNV:1 AV:1",
		"", nil},
	{toys, "toy_cascade1", "K", 2, "Y:1 Z:2", "A K 1→2",
		[]string{"Y reduces all of k in pass 1; Z needs Y and A[k] again → pass 2"}},
	{toys, "toy_cascade2", "K", 1, "Y:1 X:1 Z:1", "", nil},
	{toys, "toy_cascade3", "K", 1, "RY:1 RZ:1 RY:1 RZ:1 RZ:1 Z:1", "", nil},
	{gemm, "gemm", "M", 1, "Z:1", "", nil},
}

func TestAnalyze(t *testing.T) {
	for _, w := range cases {
		t.Run(w.name, func(t *testing.T) {
			c := cascade(t, w.src, w.name)
			r, err := passes.Analyze(c, "")
			if err != nil {
				t.Fatal(err)
			}
			var tbl bytes.Buffer
			if err := passes.WriteTable(&tbl, r); err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s", tbl.String())
			if r.Rank != w.rank || r.Passes != w.passes {
				t.Errorf("rank %s, %d passes; want %s, %d", r.Rank, r.Passes, w.rank, w.passes)
			}
			var got []string
			for _, e := range r.Einsums {
				got = append(got, e.Name+":"+itoa(e.Pass))
			}
			if g := strings.Join(got, " "); g != w.einsums {
				t.Errorf("einsums\n got %s\nwant %s", g, w.einsums)
			}
			got = got[:0]
			for _, x := range r.Retained {
				got = append(got, x.Tensor+" "+x.Size+" "+itoa(x.From)+"→"+itoa(x.To))
			}
			if g := strings.Join(got, "; "); g != w.retained {
				t.Errorf("retained\n got %s\nwant %s", g, w.retained)
			}
			if len(r.Chains) != r.Passes-1 {
				t.Errorf("%d chains for %d passes", len(r.Chains), r.Passes)
			}
			for i, ch := range w.chains {
				if i < len(r.Chains) && r.Chains[i].Text != ch {
					t.Errorf("chain %d\n got %s\nwant %s", i+2, r.Chains[i].Text, ch)
				}
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// A causal mask filters points but changes no dependency.
func TestCausalMaskKeepsPasses(t *testing.T) {
	src := strings.Replace(attention3, "SN[m, p] = exp(", "SN[m: m <= p, p] = exp(", 1)
	r, err := passes.Analyze(cascade(t, src, "attention_3pass"), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Passes != 3 {
		t.Errorf("%d passes, want 3", r.Passes)
	}
}

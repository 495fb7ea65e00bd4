package analyze

import (
	"bytes"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/kernels"
)

func library(t testing.TB, names ...string) []*einsum.Cascade {
	var out []*einsum.Cascade
	for _, n := range names {
		p, err := kernels.Load(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Cascades[0])
	}
	return out
}

func TestAttentionCascadesAgree(t *testing.T) {
	shape := map[string]int64{"E": 8, "F": 6, "M": 48, "M0": 8, "P": 10}
	rows, err := Run(library(t, "attention_3pass", "attention_2pass", "attention_1pass"), shape, 3)
	if err != nil {
		t.Fatal(err)
	}
	wantPasses := []int{3, 2, 1}
	for i, r := range rows {
		if r.Passes != wantPasses[i] {
			t.Errorf("%s: %d passes, want %d", r.Cascade, r.Passes, wantPasses[i])
		}
		if i == 0 {
			if r.Agreement[0].Reference != "" || r.Retained != "QK (M×P), SN (M×P)" {
				t.Errorf("first row: %+v", r)
			}
			continue
		}
		a := r.Agreement[0]
		if a.Reference != "attention_3pass" || a.MaxRel > 1e-12 {
			t.Errorf("%s: %+v", r.Cascade, a)
		}
	}
}

// A cascade that computes something else must show up as a disagreement.
func TestDisagreementIsReported(t *testing.T) {
	wrong, err := einsum.Parse("wrong.einsum", []byte(`cascade wrong {
  ranks E, F, M, P
  input Q[e, p], K[e, m], V[f, m]
  output AV[f, p]
  QK[m, p] = Q[e, p] * K[e, m]
  SN[m, p] = exp(QK[m, p])
  AV[f, p] = SN[m, p] * V[f, m]
}`))
	if err != nil {
		t.Fatal(err)
	}
	cs := append(library(t, "attention_3pass"), wrong.Cascades[0])
	rows, err := Run(cs, map[string]int64{"E": 4, "F": 4, "M": 8, "P": 4}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if a := rows[1].Agreement[0]; a.MaxAbs < 0.1 || a.Agrees {
		t.Errorf("an unnormalised softmax agrees with attention: %+v", a)
	}
	var buf bytes.Buffer
	WriteTable(&buf, rows)
	if !strings.Contains(buf.String(), "wrong") || !strings.Contains(buf.String(), "(reference)") || !strings.Contains(buf.String(), "DIFFER") {
		t.Errorf("table:\n%s", buf.String())
	}
	if d := Disagreements(rows); len(d) != 1 || !strings.Contains(d[0], "wrong: output AV differs from attention_3pass's") {
		t.Errorf("Disagreements = %q", d)
	}
}

// Outputs 2x apart differ (analyze once printed them under AGREES WITH);
// outputs equal up to rounding agree; NaN on one side only differs; and a
// cascade with other inputs is not compared.
func TestVerdicts(t *testing.T) {
	prog, err := einsum.Parse("v.einsum", []byte(`cascade a {
  ranks K
  input A[k]
  output Z[k]
  Z[k] = A[k] * 3
}
cascade twice {
  ranks K
  input A[k]
  output Z[k]
  Z[k] = A[k] * 6
}
cascade same {
  ranks K
  input A[k]
  output Z[k]
  Z[k] = A[k] + A[k] + A[k]
}
cascade holes {
  ranks K
  input A[k]
  output partial Z[k]
  Z[k: k > 0] = A[k] * 3
}
cascade other {
  ranks K
  input B[k]
  output Z[k]
  Z[k] = B[k]
}`))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := Run(prog.Cascades, map[string]int64{"K": 16}, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"a": true, "twice": false, "same": true, "holes": false, "other": true}
	for _, r := range rows {
		if a := r.Agreement[0]; a.Agrees != want[r.Cascade] {
			t.Errorf("%s: %+v, want agrees = %v", r.Cascade, a, want[r.Cascade])
		}
	}
	if ref := rows[4].Agreement[0].Reference; ref != "" {
		t.Errorf("a cascade over other inputs compared with %s", ref)
	}
}

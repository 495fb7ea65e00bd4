package lower

import (
	"maps"
	"testing"
)

// An index variable used as a value (ALiBi's p - m1*M0 - m0) is computed
// at every point, like any operand: its operators cost what the PE charges
// for them. Constant sub-expressions over sizes and numbers are folded.
func TestPointOpsChargeIndexValues(t *testing.T) {
	for _, tc := range []struct {
		kernel, einsum string
		want           map[string]int64
	}{
		// QK - SL[h] * (p - m1*M0 - m0): the bias's sub and mul, and the
		// position difference's two subs and the stride's mul.
		{"alibi_causal", "S", map[string]int64{"sub": 3, "mul": 2}},
		// exp2(-8 * (h + 1) / H): the add of the index and its constant
		// multiple and divisor (a multiply), then the function.
		{"alibi_causal", "SL", map[string]int64{"add": 1, "mul": 2, "exp2": 1}},
		// A constant divisor is folded into a multiply, reads only.
		{"attention_1pass", "SLN", map[string]int64{"sub": 1, "exp": 1}},
	} {
		c, _ := load(t, tc.kernel, "fusemax-cloud")
		found := false
		for _, e := range c.Einsums {
			if e.Name() != tc.einsum {
				continue
			}
			found = true
			if got := pointOps(e); !maps.Equal(got, tc.want) {
				t.Errorf("%s %s: ops per point %v, want %v", tc.kernel, tc.einsum, got, tc.want)
			}
		}
		if !found {
			t.Fatalf("%s has no Einsum %s", tc.kernel, tc.einsum)
		}
	}
}

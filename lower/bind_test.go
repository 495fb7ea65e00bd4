package lower

import "testing"

// The bind pass: which unit each Einsum runs on, by which entry, and what
// a point costs there.
func TestBindPass(t *testing.T) {
	for _, tc := range []struct {
		name              string
		pt                point
		einsum            string
		unit, by, ops, pe string
		err               string
	}{
		{"own entry, exp built from macs", binding1K, "SLN", "2d", "einsums.SLN", "exp×1 sub×1", "add×1 mac×6", ""},
		{"division by the 1D array", binding1K, "AV", "1d", "einsums.AV", "div×1", "div×1", ""},
		{"dedicated exp unit", cascade1K, "SLN", "1d", "einsums.SLN", "exp×1 sub×1", "add×1 exp×1", ""},
		{"a product feeding a sum is a mac", cascade1K, "QK", "2d", "einsums.QK", "mac×1", "mac×1", ""},
		{"unknown unit", withSet(binding1K, "einsums.QK=3d"), "", "", "", "", "", `bound to unit "3d", which fusemax-cloud does not have (it has 2d, 1d)`},
		{"operation no PE builds", withSet(cascade1K, "einsums.AV=2d"), "", "", "", "", "", "needs div, which a PE of 2d can neither run nor build"},
	} {
		pl, err := tc.pt.lower(t, Options{})
		if !wantErr(t, tc.name, err, tc.err) {
			continue
		}
		p := opNamed(t, pl, tc.einsum)
		if got := [4]string{p.array.Name, p.boundBy, opsText(p.abstract), opsText(p.prims)}; got != [4]string{tc.unit, tc.by, tc.ops, tc.pe} {
			t.Errorf("%s: %s bound %v, want %v", tc.name, tc.einsum, got, [4]string{tc.unit, tc.by, tc.ops, tc.pe})
		}
	}
}

func withSet(pt point, mapSet ...string) point {
	pt.mapSet = append(append([]string{}, pt.mapSet...), mapSet...)
	return pt
}

func withArchSet(pt point, archSet ...string) point {
	pt.archSet = append(append([]string{}, pt.archSet...), archSet...)
	return pt
}

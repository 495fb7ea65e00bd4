package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/tensor"
)

// simulate --input / --density: the selection a data filter reads is
// costed from the file or the density, the output says which, and every
// misuse is a clear error with exit 2 (usage) or 1 (a bad file).
func TestSimulateSelections(t *testing.T) {
	dir := t.TempDir()
	sel := tensor.New(16, 4096) // at M = 4096 and the derived M0 = 256: Sel[m1, p]
	for m1 := 0; m1 < 16; m1++ {
		for p := 0; p < 4096; p++ {
			if (m1+p/1024)%4 == 0 {
				sel.Data[m1*4096+p] = 1
			}
		}
	}
	good, bad := filepath.Join(dir, "sel.npy"), filepath.Join(dir, "bad.npy")
	if err := tensor.SaveNPY(good, sel, tensor.F32); err != nil {
		t.Fatal(err)
	}
	if err := tensor.SaveNPY(bad, tensor.New(3, 4), tensor.F32); err != nil {
		t.Fatal(err)
	}
	base := []string{"simulate", "block_sparse_1pass", "--arch", "fusemax-cloud", "--shape", "B=1,H=1,E=64,F=64,M=4096,P=4096"}
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout (code 0) or stderr
	}{
		{[]string{"--input", "Sel=" + good}, 0, "selection    Sel: from tensor " + good + " (0.25 of its elements select; 256 per tile)"},
		{[]string{"--density", "Sel=0.25"}, 0, "selection    Sel: declared density 0.25 (a tile reads 256 elements, so is skipped with probability 1.037e-32)"},
		{nil, 0, "selection    Sel: assumed dense"},
		{[]string{"--input", "X=" + good}, 2, "cascade block_sparse_1pass has no input X (inputs: K, Q, Sel, V)"},
		{[]string{"--input", "Q=" + good}, 2, "no data-dependent filter of cascade block_sparse_1pass reads Q; the filters read Sel"},
		{[]string{"--input", "Sel=" + bad}, 1, "shape [3 4], but Sel is declared at kernels/block_sparse_1pass.einsum:11:36 with shape [16 4096]"},
		{[]string{"--input", "Sel=" + filepath.Join(dir, "none.npy")}, 1, "none.npy: no such file"},
		{[]string{"--density", "Sel=1.5"}, 2, `"1.5" is not a share in [0, 1]`},
		{[]string{"--density", "Sel=-0"}, 0, "declared density 0"},
		{[]string{"--density", "Sel"}, 2, `--density "Sel" is not NAME=D`},
		{[]string{"--density", "K=0.5"}, 2, "no data-dependent filter of cascade block_sparse_1pass reads K"},
		{[]string{"--input", "Sel=" + good, "--density", "Sel=0.5"}, 2, "give its file or its density, not both"},
		{[]string{"--density", "Sel=0.5", "--density", "Sel=0.2"}, 2, "--density Sel is given twice"},
		{[]string{"--density", "Sel=0.5", "--arch", "h100-sxm5-80gb"}, 2, "the GPU model (h100-sxm5-80gb) does not read them"},
	} {
		stdout, stderr, code := run(t, append(base, tc.args...)...)
		got := stderr
		if code == 0 {
			got = stdout
		}
		if code != tc.code || !strings.Contains(got, tc.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d and %q", tc.args, code, got, tc.code, tc.want)
		}
		if tc.args == nil && !strings.Contains(stderr, "warning: a data filter reads Sel") {
			t.Errorf("no warning that Sel is assumed dense: %q", stderr)
		}
	}
	// A selection too large for memory is refused before its file is opened.
	_, stderr, code := run(t, "simulate", "block_sparse_1pass", "--arch", "fusemax-cloud", "--shape", "B=1,H=1,E=64,F=64,M=4M,P=4M", "--input", "Sel="+filepath.Join(dir, "none.npy"))
	if code != 1 || !strings.Contains(stderr, "more than the") || strings.Contains(stderr, "no such file") {
		t.Errorf("huge selection: exit %d, %q; want exit 1 and a memory error", code, stderr)
	}
	stdout, _, code := run(t, append(base, "--input", "Sel="+good, "-o", "json")...)
	var rep struct {
		Selections []struct{ Tensor, From, Source string }
		Einsums    []struct {
			Name         string
			TilesSkipped int64 `json:"tiles_skipped"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); code != 0 || err != nil {
		t.Fatalf("json: exit %d, %v", code, err)
	}
	if len(rep.Selections) != 1 || rep.Selections[0].From != "tensor" || rep.Einsums[0].TilesSkipped == 0 {
		t.Errorf("json selections %+v, first Einsum %+v: want Sel from tensor and tiles skipped", rep.Selections, rep.Einsums[0])
	}
}

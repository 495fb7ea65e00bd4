package lower

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/sim"
)

// blockSparse is the causal test cascade (Cascade 5 in the binding's
// names) with its mask replaced by filter, which reads Sel (declared with
// dimensions selDims).
func blockSparse(t testing.TB, selDims, filter string) *einsum.Cascade {
	t.Helper()
	src, err := os.ReadFile("testdata/causal.einsum")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("m1*M0 + m0 <= p", filter,
		"V[f, m]\n", "V[f, m], Sel["+selDims+"]\n").Replace(string(src))
	p, err := einsum.Parse("block_sparse.einsum", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if len(DataFilterTensors(p.Cascades[0])) != 1 {
		t.Fatalf("no data filter in\n%s", text)
	}
	return p.Cascades[0]
}

// sparseShape is M = P = 4096 with 256-key blocks, in query groups of 1024
// (four 256-query tiles of the 2D array), Sel read from DRAM.
var sparseShape = map[string]int64{"B": 1, "H": 1, "E": 64, "F": 64, "M": 4096, "P": 4096, "M0": 256}

func sparseRun(t *testing.T, c *einsum.Cascade, sels map[string]Selection) *Report {
	t.Helper()
	a, err := arch.Load("fusemax-cloud", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadMapping("fusemax-binding", sparseShape, []string{"tile.P=1024", "offchip=[Q, K, V, Sel, AV]"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Simulate(c, a, m, sparseShape, Options{Selections: sels}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func einsumOf(t *testing.T, r *Report, name string) EinsumPlan {
	t.Helper()
	for _, e := range r.Einsums {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("report has no Einsum %s", name)
	return EinsumPlan{}
}

// everyFourthBlock is Sel[m1, p]: key block m1 selected for the queries of
// 1024-query block q when (m1 + q) % 4 == 0.
func everyFourthBlock(m1s, ps int) []float64 {
	sel := make([]float64, m1s*ps)
	for m1 := 0; m1 < m1s; m1++ {
		for p := 0; p < ps; p++ {
			if (m1+p/1024)%4 == 0 {
				sel[m1*ps+p] = 1
			}
		}
	}
	return sel
}

// A selection given as a tensor skips exactly the tiles it leaves empty.
// By construction: key block m1 is selected for the 1024-query block q
// when (m1 + q) % 4 == 0, so 64 of the 256 (256-query × 256-key) tiles
// are selected and 16 of the 64 (1024-query × 256-key) DRAM tiles; one
// more element (query 5, key block 1) makes one more tile partly defined,
// which costs a full tile. K/V tiles no query of a group needs are not
// read, so traffic falls.
func TestDataMaskFromTensor(t *testing.T) {
	const m1s, ps = 16, 4096
	sel := everyFourthBlock(m1s, ps)
	sel[1*ps+5] = 0.5
	var asked []int
	load := func(shape []int) ([]float64, error) {
		asked = shape
		return sel, nil
	}
	c := blockSparse(t, "m1, p", "Sel[m1, p] > 0")
	r := sparseRun(t, c, map[string]Selection{"Sel": {Load: load, Source: "sel.npy"}})
	dense := sparseRun(t, blockSparse(t, "m1, p", "Sel[m1, p] > 0"), map[string]Selection{"Sel": {Density: 1}})
	if !slices.Equal(asked, []int{m1s, ps}) {
		t.Errorf("Sel loaded at shape %v, want [16 4096]", asked)
	}
	qk := einsumOf(t, r, "QK")
	if qk.Tiles != 256 || qk.TilesSkipped != 256-65 || qk.WorkShare != 65.0/256 {
		t.Errorf("QK works in %d of %d tiles (share %g), want 65 of 256", qk.Tiles-qk.TilesSkipped, qk.Tiles, qk.WorkShare)
	}
	if want := (64*256 + 1.0) / (m1s * ps); math.Abs(qk.Useful-want) > 1e-12 {
		t.Errorf("QK useful fraction %g, want %g", qk.Useful, want)
	}
	for _, name := range []string{"LM", "RM", "SLN", "SLD", "SLNV", "PRM", "RD", "RNV"} {
		if e := einsumOf(t, r, name); e.WorkShare != qk.WorkShare {
			t.Errorf("%s works on %g of its tiles, QK on %g: a skipped tile spares the iteration", name, e.WorkShare, qk.WorkShare)
		}
	}
	if len(r.Selections) != 1 || r.Selections[0].From != SelectionFromTensor || r.Selections[0].Source != "sel.npy" {
		t.Errorf("selections %+v, want Sel from tensor sel.npy", r.Selections)
	}
	ratio := r.LatencyS / dense.LatencyS
	t.Logf("latency %.4g / %.4g = %.4f (tile share %.4f), traffic %.4g / %.4g B", r.LatencyS, dense.LatencyS, ratio, qk.WorkShare, r.TrafficBytes, dense.TrafficBytes)
	if ratio > qk.WorkShare+0.05 || ratio < qk.WorkShare-0.01 {
		t.Errorf("latency ratio %.4f, want about the tile share %.4f", ratio, qk.WorkShare)
	}
	// K and V are read in 17 of 64 DRAM tiles (16 selected, one partly).
	if r.TrafficBytes >= dense.TrafficBytes {
		t.Errorf("traffic %g not below dense %g though whole K/V tiles go unread", r.TrafficBytes, dense.TrafficBytes)
	}
}

// A declared density d skips the expected share of tiles for independent
// selection blocks: a tile reading n of Sel's elements is empty with
// probability (1-d)^n. With one element per tile (Sel[m1], a key block
// selected for every query) a share d of the tiles is worked; with one
// element per query (Sel[m1, p], 256 per tile) 1-(1-d)^256.
func TestDataMaskFromDensity(t *testing.T) {
	for _, tc := range []struct {
		dims, index string
		d, want     float64
	}{
		{"m1", "m1", 0.25, 0.25},
		{"m1, p", "m1, p", 0.01, 1 - math.Pow(0.99, 256)},
		{"m1, p", "m1, p", 0, 0},
	} {
		c := blockSparse(t, tc.dims, "Sel["+tc.index+"] > 0")
		r := sparseRun(t, c, map[string]Selection{"Sel": {Density: tc.d}})
		dense := sparseRun(t, blockSparse(t, tc.dims, "Sel["+tc.index+"] > 0"), map[string]Selection{"Sel": {Density: 1}})
		qk := einsumOf(t, r, "QK")
		if math.Abs(qk.WorkShare-tc.want) > 1e-12 || math.Abs(qk.Useful-tc.d) > 1e-12 {
			t.Errorf("Sel[%s] at density %g: QK works on %g of its tiles (useful %g), want %g (useful %g)", tc.index, tc.d, qk.WorkShare, qk.Useful, tc.want, tc.d)
		}
		// The 2D array's work is QK's: it falls to the same share.
		busy, denseBusy := r.Utilization["2d"]*r.LatencyS, dense.Utilization["2d"]*dense.LatencyS
		t.Logf("Sel[%s] d=%g: 2D busy %.4g / %.4g s = %.4f, latency ratio %.4f", tc.index, tc.d, busy, denseBusy, busy/denseBusy, r.LatencyS/dense.LatencyS)
		if math.Abs(busy/denseBusy-tc.want) > 1e-9 {
			t.Errorf("Sel[%s] at density %g: 2D array busy %.6f of dense, want %.6f", tc.index, tc.d, busy/denseBusy, tc.want)
		}
		if saved := dense.TrafficBytes - r.TrafficBytes; math.Abs(saved-r.TrafficSkippedBytes) > 1e-9*dense.TrafficBytes {
			t.Errorf("Sel[%s] at density %g: %g B reported untransferred, dense moves %g B more", tc.index, tc.d, r.TrafficSkippedBytes, saved)
		}
		// Nothing selected: no Q, K or V tile is read, but Sel is, whole (a
		// tile is known to be skipped only once its selection is read),
		// and AV is written (2-byte words).
		if want := 2 * (64*4096 + 16*float64(strings.Count(tc.dims, ",")*4095+1)); tc.d == 0 && r.TrafficBytes != want {
			t.Errorf("Sel[%s] at density 0: traffic %g B, want %g (AV and Sel only)", tc.index, r.TrafficBytes, want)
		}
		perTile := map[string]float64{"m1": 1, "m1, p": 256}[tc.dims]
		if u := r.Selections; len(u) != 1 || u[0].From != SelectionFromDensity || u[0].Density != tc.d || u[0].ElementsPerTile != perTile {
			t.Errorf("selections %+v, want Sel at declared density %g, %g elements per tile", u, tc.d, perTile)
		}
	}
}

// Without values or a density, a data filter is costed dense and the
// report says so; a top-k selection computed in the cascade has density
// k/n.
func TestDataMaskDenseAndTopK(t *testing.T) {
	r := sparseRun(t, blockSparse(t, "m1, p", "Sel[m1, p] > 0"), nil)
	if qk := einsumOf(t, r, "QK"); qk.WorkShare != 1 || qk.TilesSkipped != 0 {
		t.Errorf("unknown Sel: QK works on %g of its tiles, want all", qk.WorkShare)
	}
	if u := r.Selections; len(u) != 1 || u[0].From != SelectionDense {
		t.Errorf("selections %+v, want Sel assumed dense", u)
	}
	if !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, "--density Sel=D") }) {
		t.Errorf("no warning that Sel is assumed dense: %q", r.Warnings)
	}
	c, a := load(t, "moba_topk", "fusemax-cloud")
	shape := map[string]int64{"B": 1, "H": 1, "E": 64, "F": 64, "M": 4096, "P": 4096, "T": 4}
	m, _, err := DeriveMapping(c, a, shape)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Simulate(c, a, m, shape, Options{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if u := rep.Selections; len(u) != 1 || u[0].From != SelectionFromTopK || u[0].Density != 4.0/16 {
		t.Errorf("moba_topk selections %+v, want Sel at top-k density 4/16", u)
	}
}

// A selection error is the inputs', not a mapping's: a search stops at it.
func TestDataMaskErrors(t *testing.T) {
	c := blockSparse(t, "m1, p", "Sel[m1, p] > 0")
	a, _ := arch.Load("fusemax-cloud", nil)
	m, _, err := DeriveMapping(c, a, sparseShape)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sel  Selection
		want string
	}{
		{Selection{Load: func([]int) ([]float64, error) { return make([]float64, 3), nil }}, "3 values for shape [16 4096]"},
		{Selection{Density: 1.5}, "density 1.5 is not in [0, 1]"},
		{Selection{Density: math.NaN()}, "is not in [0, 1]"},
	} {
		_, err := Simulate(c, a, m, sparseShape, Options{Selections: map[string]Selection{"Sel": tc.sel}}, sim.Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "feasible") {
			t.Errorf("error %v, want one saying %q", err, tc.want)
		}
	}
	if got := DataFilterTensors(c); !slices.Equal(got, []string{"Sel"}) {
		t.Errorf("DataFilterTensors = %v, want [Sel]", got)
	}
}

// BenchmarkDataMaskPoint is one block-sparse design point at M = P = 16K
// with its selection given as a tensor (64 × 16K elements, every fourth
// key block per 1024-query block) or as a density: the selection's
// analysis on top of a dense point's lowering and simulation.
func BenchmarkDataMaskPoint(b *testing.B) {
	const m1s, ps = 64, 16384
	sel := everyFourthBlock(m1s, ps)
	c := blockSparse(b, "m1, p", "Sel[m1, p] > 0")
	a, _ := arch.Load("fusemax-cloud", nil)
	shape := map[string]int64{"B": 1, "H": 1, "E": 64, "F": 64, "M": 16384, "P": 16384, "M0": 256}
	m, _ := LoadMapping("fusemax-binding", shape, []string{"tile.P=4096"})
	for _, bc := range []struct {
		name string
		sel  Selection
	}{
		{"tensor", Selection{Load: func([]int) ([]float64, error) { return sel, nil }}},
		{"density", Selection{Density: 0.25}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Simulate(c, a, m, shape, Options{Selections: map[string]Selection{"Sel": bc.sel}}, sim.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// An Einsum with an affine and a data condition is skipped in a tile when
// either leaves no point there: causal and a block selection together.
func TestDataMaskWithAffineMask(t *testing.T) {
	c := blockSparse(t, "m1, p", "m1*M0 + m0 <= p && Sel[m1, p] > 0")
	sel := everyFourthBlock(16, 4096)
	r := sparseRun(t, c, map[string]Selection{"Sel": {Load: func([]int) ([]float64, error) { return sel, nil }}})
	want := 0
	for m1 := 0; m1 < 16; m1++ {
		for pb := 0; pb < 16; pb++ { // 256-query blocks
			if m1 <= pb && (m1+pb/4)%4 == 0 {
				want++
			}
		}
	}
	if qk := einsumOf(t, r, "QK"); qk.Tiles-qk.TilesSkipped != int64(want) {
		t.Errorf("causal block-sparse QK works in %d of %d tiles, want %d", qk.Tiles-qk.TilesSkipped, qk.Tiles, want)
	}
	// Decided jointly: in a 256-key window, the only selected element
	// (key block 1, query 767) sees no key of block 1 (keys 256..511 are
	// all more than 256 before it), though the window alone and the
	// selection alone each leave a point in that tile.
	c = blockSparse(t, "m1, p", "m1*M0 + m0 <= p && m1*M0 + m0 + 256 > p && Sel[m1, p] > 0")
	one := make([]float64, 16*4096)
	one[1*4096+767] = 1
	r = sparseRun(t, c, map[string]Selection{"Sel": {Load: func([]int) ([]float64, error) { return one, nil }}})
	if qk := einsumOf(t, r, "QK"); qk.TilesSkipped != qk.Tiles {
		t.Errorf("window block-sparse QK works in %d of %d tiles, want none", qk.Tiles-qk.TilesSkipped, qk.Tiles)
	}
	one[1*4096+767], one[1*4096+766] = 0, 1 // query 766 sees key 511
	r = sparseRun(t, c, map[string]Selection{"Sel": {Load: func([]int) ([]float64, error) { return one, nil }}})
	if qk := einsumOf(t, r, "QK"); qk.Tiles-qk.TilesSkipped != 1 {
		t.Errorf("window block-sparse QK works in %d of %d tiles, want 1", qk.Tiles-qk.TilesSkipped, qk.Tiles)
	}
}

// A filter comparing two tensors is costed dense, with a warning that
// says so and that a selection given for either is not used.
func TestDataMaskTwoTensors(t *testing.T) {
	src := "cascade two {\n  ranks E, M, P\n  input Q[e, p], K[e, m], A[m, p], B[m, p]\n  output Z[p]\n" +
		"  S[m: A[m, p] > B[m, p], p] = Q[e, p] * K[e, m]\n  Z[p] = S[m, p]\n}\n"
	prog, err := einsum.Parse("two.einsum", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c := prog.Cascades[0]
	a, err := arch.Load("fusemax-cloud", nil)
	if err != nil {
		t.Fatal(err)
	}
	shape := map[string]int64{"E": 64, "M": 1024, "P": 1024}
	m, _, err := DeriveMapping(c, a, shape)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Simulate(c, a, m, shape, Options{Selections: map[string]Selection{"A": {Density: 0.5}}}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(r.Warnings, func(w string) bool {
		return strings.Contains(w, "compares two tensors") && strings.Contains(w, "given for A are not used")
	}) || einsumOf(t, r, "S").WorkShare != 1 {
		t.Errorf("warnings %q, S work share %g: want dense with a warning that A's density is unused", r.Warnings, einsumOf(t, r, "S").WorkShare)
	}
}

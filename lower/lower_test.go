package lower

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/sim"
	"github.com/fusemax/fusemax/workload"
)

func load(t testing.TB, kernel, archName string, sets ...string) (*einsum.Cascade, *arch.Spec) {
	t.Helper()
	p, err := kernels.Load(kernel)
	if err != nil {
		t.Fatal(err)
	}
	a, err := arch.Load(archName, sets)
	if err != nil {
		t.Fatal(err)
	}
	return p.Cascades[0], a
}

func run(t testing.TB, cfg refConfig, shape map[string]int64, so sim.Options, sets ...string) *Report {
	t.Helper()
	conf, c, a := loadRef(t, cfg)
	m, err := LoadMapping(conf.Mapping, shape, sets)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Simulate(c, a, m, shape, Options{EnergyProfile: ProfileFuseMaxMicro24}, so)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestFastForwardMatchesFull compares fast-forwarding with simulating every
// iteration, at every size where the full simulation stays cheap.
func TestFastForwardMatchesFull(t *testing.T) {
	shapes := []map[string]int64{
		{"B": 1, "H": 1, "E": 64, "F": 64, "M": 1024, "P": 1024},
		{"B": 2, "H": 3, "E": 64, "F": 64, "M": 4096, "P": 4096},
		{"B": 1, "H": 2, "E": 128, "F": 128, "M": 16384, "P": 16384},
		{"B": 3, "H": 1, "E": 32, "F": 32, "M": 3072, "P": 2560},
		{"B": 1, "H": 1, "E": 64, "F": 64, "M": 65536, "P": 65536},
	}
	for _, cfg := range refConfigs {
		for _, s := range shapes {
			ff := run(t, cfg, s, sim.Options{})
			full := run(t, cfg, s, sim.Options{NoFastForward: true})
			check := func(what string, a, b float64) {
				if d := math.Abs(a-b) / math.Max(math.Abs(b), 1e-300); d > 1e-9 {
					t.Errorf("%s %v: %s fast-forward %.12g, full %.12g (%.2g)", cfg.name, s, what, a, b, d)
				}
			}
			check("cycles", ff.Cycles, full.Cycles)
			check("energy", ff.EnergyPJ, full.EnergyPJ)
			check("traffic", ff.TrafficBytes, full.TrafficBytes)
			for k, v := range full.Utilization {
				check("utilization "+k, ff.Utilization[k], v)
			}
			for k, v := range full.BufferPeakBytes {
				check("peak "+k, ff.BufferPeakBytes[k], v)
			}
		}
	}
}

// TestUnseenShapes runs shapes the paper never ran and checks what the
// model implies: binding is compute bound with the closed-form latency
// (MODEL.md §5.4) up to pipeline fill, and traffic is exact.
func TestUnseenShapes(t *testing.T) {
	for _, s := range []map[string]int64{
		{"B": 1, "H": 1, "E": 32, "F": 32, "M": 512, "P": 512},
		{"B": 7, "H": 5, "E": 256, "F": 256, "M": 3 << 10, "P": 3 << 10},
		{"B": 64, "H": 64, "E": 128, "F": 128, "M": 768 << 10, "P": 768 << 10},
		{"B": 2, "H": 40, "E": 64, "F": 64, "M": 5 << 12, "P": 5 << 12},
	} {
		r := run(t, refConfigs[0], s, sim.Options{})
		B, H, E, F, M, P := float64(s["B"]), float64(s["H"]), float64(s["E"]), float64(s["F"]), float64(s["M"]), float64(s["P"])
		M1 := M / 256
		X := B * H * M * P / 65536
		want := (math.Max(E+1, F+1+F/M1) + 9 + F) * X
		// The closed form assumes the pipeline always full; the schedule
		// also pays one fill (the first tile's QK and its loads) and one
		// drain (the last tile's 1D work), which matter for small problems.
		p1 := float64(r.Derived["P1"])
		fill := (E+1+2*F+1+F)*p1 + 2*(E+F)*256*p1/(400*(1<<30)/940e6)
		if r.Cycles < want*(1-1e-9) || r.Cycles > want*1.005+fill {
			t.Errorf("%v: cycles %.6g, closed form %.6g (+ fill %.3g)", s, r.Cycles, want, fill)
		}
		P2 := P / (256 * float64(r.Derived["P1"]))
		traffic := 2 * (B*H*E*P + B*H*E*M*P2 + B*H*F*M*P2 + B*H*F*P)
		if r.TrafficBytes != traffic {
			t.Errorf("%v: traffic %.6g, want %.6g", s, r.TrafficBytes, traffic)
		}
		fr := run(t, refConfigs[1], s, sim.Options{})
		if fr.Cycles <= 0 || fr.TrafficBytes <= 0 {
			t.Errorf("%v: FLAT gave %v", s, fr)
		}
	}
}

// TestBufferPeak reports the peak global-buffer occupancy: binding's stops
// growing once P1 reaches its capacity bound (64K on), while FLAT's grows
// with length under each of its dataflows (output-stationary up to 64K,
// weight-stationary with QK off chip from 256K: flat_validation.csv).
func TestBufferPeak(t *testing.T) {
	bert, _ := workload.Lookup("BERT")
	peak := map[string]map[int64]float64{"binding": {}, "flat": {}}
	seqs := []int64{1 << 10, 4 << 10, 64 << 10, 256 << 10, 1 << 20}
	for _, seq := range seqs {
		b := run(t, refConfigs[0], bert.Shape(seq), sim.Options{})
		f := run(t, refConfigs[1], bert.Shape(seq), sim.Options{})
		peak["binding"][seq], peak["flat"][seq] = b.BufferPeakBytes["L3"], f.BufferPeakBytes["L3"]
		t.Logf("BERT %s: binding peak %.4g MiB, FLAT peak %.4g MiB", workload.FormatLength(seq), b.BufferPeakBytes["L3"]/(1<<20), f.BufferPeakBytes["L3"]/(1<<20))
	}
	for _, seq := range []int64{256 << 10, 1 << 20} {
		if peak["binding"][seq] != peak["binding"][64<<10] {
			t.Errorf("binding peak changed with length: %g at 64K, %g at %s", peak["binding"][64<<10], peak["binding"][seq], workload.FormatLength(seq))
		}
	}
	for _, pair := range [][2]int64{{1 << 10, 4 << 10}, {256 << 10, 1 << 20}} {
		if peak["flat"][pair[1]] <= peak["flat"][pair[0]] {
			t.Errorf("FLAT peak did not grow from %s to %s: %g → %g", workload.FormatLength(pair[0]), workload.FormatLength(pair[1]), peak["flat"][pair[0]], peak["flat"][pair[1]])
		}
	}
}

func TestDerivedP1(t *testing.T) {
	cases := []struct {
		model string
		seq   int64
		sets  []string
		want  int64
	}{
		{"BERT", 1 << 10, nil, 4},
		{"BERT", 64 << 10, nil, 128},
		{"XLM", 64 << 10, nil, 64},
		{"XLM", 1 << 20, nil, 64},
		{"BERT", 1 << 20, []string{"memory.L3.capacity=32MiB"}, 256},
		{"BERT", 1 << 20, []string{"memory.L3.capacity=4MiB"}, 32},
	}
	for _, c := range cases {
		m, _ := workload.Lookup(c.model)
		cs, a := load(t, "attention_1pass", "fusemax-cloud", c.sets...)
		mp, err := LoadMapping("fusemax-binding", m.Shape(c.seq), nil)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := Lower(cs, a, mp, m.Shape(c.seq), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := plan.Derived["P1"]; got != c.want {
			t.Errorf("%s %d %v: P1 = %d, want %d", c.model, c.seq, c.sets, got, c.want)
		}
	}
}

func TestPipelineLatency(t *testing.T) {
	bert, _ := workload.Lookup("BERT")
	s := bert.Shape(4096)
	c, a := load(t, "attention_1pass", "fusemax-cloud")
	m, _ := LoadMapping("fusemax-binding", s, nil)
	ideal, err := Simulate(c, a, m, s, Options{}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	piped, err := Simulate(c, a, m, s, Options{PipelineLatency: true}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if piped.Cycles <= ideal.Cycles {
		t.Errorf("fill/drain did not cost anything: %g vs %g", piped.Cycles, ideal.Cycles)
	}
	t.Logf("BERT 4K binding: ideal %.6g s, with 2D fill/drain %.6g s (+%.2f%%)", ideal.LatencyS, piped.LatencyS, 100*(piped.Cycles/ideal.Cycles-1))
}

func TestErrors(t *testing.T) {
	bert, _ := workload.Lookup("BERT")
	shape := bert.Shape(1024)
	cases := []struct {
		kernel, arch, mapping string
		archSets, mapSets     []string
		want                  string
	}{
		{"attention_3pass", "flat-cloud", "flat", nil, []string{"einsums.A=2d"}, "flat.yaml:37:3: A needs div"},
		{"attention_1pass", "fusemax-cloud", "fusemax-binding", nil, []string{"einsums.AV=3d"}, "bound to unit \"3d\""},
		{"attention_1pass", "fusemax-cloud", "fusemax-binding", []string{"memory.L3.capacity=1KiB"}, nil, "fusemax-binding.yaml:15:3: derive.P1: no P1 fits L3"},
		{"attention_1pass", "fusemax-cloud", "fusemax-binding", nil, []string{"onchip=[Q, ZZ]"}, "no tensor ZZ"},
		{"attention_1pass", "fusemax-cloud", "fusemax-binding", nil, []string{"tile.P=3"}, "--set tile.P=3: tile.P: a group of 3 does not divide P=1024; give a divisor of 1024 (nearest: 2 or 4)"},
		{"attention_3pass", "fusemax-cloud", "fusemax-binding", nil, nil, "fusemax-binding.yaml:26:1: mapping fusemax-binding binds no unit for Einsum GM"},
		{"attention_1pass", "flat-cloud", "fusemax-binding", nil, nil, "LM needs max"},
		{"attention_1pass", "fusemax-cloud", "fusemax-binding", nil, []string{"sizes.M0=frob"}, "frob is not a rank, a size"},
	}
	for _, c := range cases {
		cs, a := load(t, c.kernel, c.arch, c.archSets...)
		m, err := LoadMapping(c.mapping, shape, c.mapSets)
		if err == nil {
			_, err = Lower(cs, a, m, shape, Options{})
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c, err, c.want)
		}
	}
}

func TestMappingErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"name: x\neinsums: {QK: 2d}\ncolour: red\n", "m.yaml:3:1: mapping: unknown key \"colour\""},
		{"einsums: {QK: 2d}\n", "m.yaml:1:1: mapping: missing \"name\""},
		{"name: x\nspill: 2\neinsums: {QK: 2d}\n", "must be below 1"},
		{"name: x\nspill: -1\neinsums: {QK: 2d}\n", "must be at least 0"},
		{"name: x\nbuffers: 2 MiB\neinsums: {QK: 2d}\n", "inconsistent"},
		{"name: x\nstationarity: sideways\neinsums: {QK: 2d}\n", "not one of the orders"},
		{"name: x\neinsums: {QK: {unit: 2d, colour: 1}}\n", "unknown key \"colour\""},
		{"name: x\neinsums: {QK: 2d}\nvariants: [{when: {E: 64}, set: {spill: 0.5}}]\n", ""},
		{"name: x\neinsums: {QK: 2d}\nvariants: [{when: {E: 64}, set: {nope.x: 1}}]\n", "has no key \"nope\""},
	}
	for _, c := range cases {
		_, err := ParseMapping("m.yaml", []byte(c.src), map[string]int64{"E": 64}, nil)
		if c.want == "" {
			if err != nil {
				t.Errorf("%q: %v", c.src, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.src, err, c.want)
		}
	}
}

func TestEvalSize(t *testing.T) {
	look := func(n string) (float64, bool) {
		v, ok := map[string]float64{"P": 1024, "2d.cols": 256, "E": 64}[n]
		return v, ok
	}
	cases := []struct {
		src  string
		want float64
		err  string
		off  int // where the error points in src
	}{
		{"P / 2d.cols", 4, "", 0},
		{"min(256, E) * 2", 128, "", 0},
		{"(P + 2d.cols) - 1", 1279, "", 0},
		{"ceil_div(P, 3)", 342, "", 0},
		{"-E + 65", 1, "", 0},
		{"P / 0", 0, `"P / 0" divides by zero`, 4},
		{"P / (E - 64)", 0, "its divisor (E - 64) is 0 here", 4},
		{"ceil_div(P, E - E)", 0, "ceil_div divides by zero", 0},
		{"P * Q", 0, "Q is not a rank, a size", 4},
		{"min(1)", 0, "no function min of 1 arguments", 0},
		{"2 * (P", 0, "this ( is not closed", 4},
		{"P P", 0, `unexpected "P" after a complete expression`, 2},
		{"P +", 0, "ends where a number, a name or ( is expected", 3},
	}
	for _, c := range cases {
		got, err := evalSize(c.src, look)
		if c.err != "" {
			var se *sizeError
			if !errors.As(err, &se) || !strings.Contains(se.Msg, c.err) || se.Off != c.off {
				t.Errorf("%q: err %#v, want %q at offset %d", c.src, err, c.err, c.off)
			}
		} else if err != nil || got != c.want {
			t.Errorf("%q = %g, %v; want %g", c.src, got, err, c.want)
		}
	}
}

func FuzzEvalSize(f *testing.F) {
	for _, s := range []string{"P / 2d.cols", "min(256, E) * 2", "((1", "ceil_div(P,0)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = evalSize(s, func(string) (float64, bool) { return 3, true })
	})
}

func FuzzParseMapping(f *testing.F) {
	for _, name := range []string{"fusemax-binding", "flat"} {
		_, src, _ := readSpec(name)
		f.Add(src, "spill=0.5")
	}
	f.Add([]byte("name: x\neinsums: {QK: 2d}\n"), "")
	f.Fuzz(func(t *testing.T, src []byte, set string) {
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		m, err := ParseMapping("f.yaml", src, map[string]int64{"E": 64, "P": 1024}, sets)
		if err != nil {
			return
		}
		// A mapping that loads must lower or fail cleanly.
		c, a := load(t, "attention_1pass", "fusemax-cloud")
		_, _ = Lower(c, a, m, map[string]int64{"B": 1, "H": 1, "E": 64, "F": 64, "M": 1024, "P": 1024}, Options{})
	})
}

func BenchmarkSimulateBERT(b *testing.B) {
	bert, _ := workload.Lookup("BERT")
	for _, cfg := range refConfigs {
		for _, seq := range []int64{1 << 10, 1 << 20} {
			b.Run(cfg.name+"/"+workload.FormatLength(seq), func(b *testing.B) {
				shape := bert.Shape(seq)
				conf, c, a := loadRef(b, cfg)
				for i := 0; i < b.N; i++ {
					m, err := LoadMapping(conf.Mapping, shape, nil)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := Simulate(c, a, m, shape, Options{}, sim.Options{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "points/s")
			})
		}
	}
}

// systolic steps a PE-level model of an output-stationary rows×cols array
// one cycle at a time: operands enter at the left and top edges, move one
// PE per cycle, and each PE does one MAC when both have arrived. It
// returns the cycle after the last MAC.
func systolic(rows, cols, k int) int {
	done := make([][]int, rows) // MACs finished per PE
	for i := range done {
		done[i] = make([]int, cols)
	}
	for t := 0; ; t++ {
		all := true
		for i := 0; i < rows; i++ {
			for j := 0; j < cols; j++ {
				// Operand pair number done[i][j] reaches PE (i, j) at cycle
				// done[i][j] + i + j (i hops down, j hops right).
				if done[i][j] < k && t >= done[i][j]+i+j {
					done[i][j]++
				}
				if done[i][j] < k {
					all = false
				}
			}
		}
		if all {
			return t + 1
		}
	}
}

// TestPipelineLatencyMatchesPEModel checks the fill/drain option against
// the PE-level model on small arrays running one GEMM tile.
func TestPipelineLatencyMatchesPEModel(t *testing.T) {
	const mapping = `name: gemm-os
tile: {M: 2d.rows, N: 2d.cols}
units: {2d: {spatial: [N, M], l3: [K]}}
einsums: {Z: 2d}
`
	for _, dims := range [][3]int{{4, 4, 16}, {8, 4, 3}, {2, 16, 64}} {
		rows, cols, k := dims[0], dims[1], dims[2]
		c, a := load(t, "gemm", "fusemax-cloud", fmt.Sprintf("arrays.2d.rows=%d", rows), fmt.Sprintf("arrays.2d.cols=%d", cols))
		m, err := ParseMapping("gemm-os.yaml", []byte(mapping), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		shape := map[string]int64{"K": int64(k), "M": int64(rows), "N": int64(cols)}
		r, err := Simulate(c, a, m, shape, Options{PipelineLatency: true}, sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ideal, err := Simulate(c, a, m, shape, Options{}, sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// Ideal throughput: the tile takes K cycles after its operands load.
		load := ideal.Cycles - float64(k)
		want := systolic(rows, cols, k)
		if got := r.Cycles - load; got != float64(want) {
			t.Errorf("%dx%d array, K=%d: tile takes %g cycles, the PE-level model %d", rows, cols, k, got, want)
		}
	}
}

// A mapping that binds by operation class and default unit serves a
// cascade it does not name: its entries for Einsums and tensors the
// cascade lacks are warnings, and a case-slipped shape name is noted.
func TestBindByClass(t *testing.T) {
	shape := map[string]int64{"B": 1, "H": 1, "E": 64, "F": 64, "M": 1024, "P": 1024, "m0": 128}
	c, a := load(t, "attention_3pass", "fusemax-cloud")
	m, err := LoadMapping("fusemax-binding", shape, []string{"default=1d", "classes={matmul: 2d}"})
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Lower(c, a, m, shape, Options{NoteUnusedShape: true})
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]string{}
	for _, e := range plan.Einsums {
		units[e.Name] = e.Unit
	}
	if units["QK"] != "2d" || units["AV"] != "1d" || units["GM"] != "1d" {
		t.Errorf("units %v: want QK and AV by their entries (2d, 1d), GM by the default (1d)", units)
	}
	all := strings.Join(plan.Warnings, "\n")
	for _, want := range []string{"einsums.LM: cascade attention_3pass has no Einsum LM", "onchip: cascade attention_3pass has no tensor BK", "did you mean M0?"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	// Without a class or default, the same entries are errors.
	m, _ = LoadMapping("fusemax-binding", shape, []string{"einsums.GM=1d", "einsums.SN=1d", "einsums.SD=1d", "einsums.A=1d"})
	if _, err := Lower(c, a, m, shape, Options{}); err == nil || !strings.Contains(err.Error(), "has no Einsum LM") {
		t.Errorf("got %v, want an error naming LM", err)
	}
}

func TestClassOf(t *testing.T) {
	c, _ := load(t, "attention_1pass", "fusemax-cloud")
	want := map[string]string{"QK": ClassMatmul, "LM": ClassReduction, "RM": ClassState, "SLN": ClassMap, "SLD": ClassReduction,
		"SLNV": ClassMatmul, "PRM": ClassMap, "RD": ClassState, "RNV": ClassState, "AV": ClassMap}
	for _, e := range c.Einsums {
		if w, ok := want[e.Name()]; ok && len(e.Reads()) > 0 && ClassOf(e) != w {
			t.Errorf("%s: class %s, want %s", e.Name(), ClassOf(e), w)
		}
	}
}

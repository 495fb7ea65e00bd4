package review

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/lower"
	"github.com/fusemax/fusemax/lower/gpu"
	"github.com/fusemax/fusemax/sim"
)

func TestParseList(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{in: "1K..1M*4", want: "1K 4K 16K 64K 256K 1M"},
		{in: "64,128,256", want: "64 128 256"},
		{in: "8MiB..64MiB*2", want: "8MiB 16MiB 32MiB 64MiB"},
		{in: "1..5+2", want: "1 3 5"},
		{in: "1..3", want: "1 2 3"},
		{in: "0.5..2*2", want: "0.5 1 2"},
		{in: "[Q,K],[Q]", want: "[Q,K] [Q]"},
		{in: "16 MiB", want: "16 MiB"},
		{in: "1K..3K+1K", want: "1K 2K 3K"},
		{in: "5..1", err: "start is above the end"},
		{in: "1..10*1", err: "factor above 1"},
		{in: "0..10*2", err: "start above 0"},
		{in: "1..10+0", err: "step must be above 0"},
		{in: "1K..1M*x", err: "step"},
		{in: "a..b", err: "not a number"},
		{in: "1..", err: "not a number"},
		{in: "1,,2", err: "empty value"},
		{in: "", err: "empty value"},
		{in: "[Q,K", err: "unclosed"},
		{in: "1..100000", err: "more than 10000"},
		{in: "1KiB..1MiB*2", err: "same unit"},
		{in: "256KiB..1024KiB*2,4", want: "256KiB 512KiB 1024KiB 4"},
		{in: "1K..8MiB*2", err: "same unit"},
	}
	for _, c := range cases {
		got, err := ParseList(c.in)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseList(%q) = %v, %v; want an error with %q", c.in, got, err, c.err)
			}
		case err != nil:
			t.Errorf("ParseList(%q): %v", c.in, err)
		case strings.Join(got, " ") != c.want:
			t.Errorf("ParseList(%q) = %q, want %q", c.in, strings.Join(got, " "), c.want)
		}
	}
}

func TestParseShardAndAxis(t *testing.T) {
	for _, s := range []string{"0/1", "2/3"} {
		if _, err := ParseShard(s); err != nil {
			t.Errorf("ParseShard(%q): %v", s, err)
		}
	}
	for _, s := range []string{"3/3", "-1/2", "1", "a/b", "0/0", "1/"} {
		if _, err := ParseShard(s); err == nil {
			t.Errorf("ParseShard(%q) accepted", s)
		}
	}
	for _, s := range []string{"rows=1,2", "arch.x", "=1", "arch.rows=5..1"} {
		if _, err := ParseAxis(s); err == nil {
			t.Errorf("ParseAxis(%q) accepted", s)
		}
	}
}

const reviewYAML = `title: FuseMax against FLAT
energy_profile: fusemax-micro24
baseline: flat
designs:
  - {label: flat, config: fusemax-micro24/flat}
  - {label: binding, config: fusemax-micro24/binding}
  - label: binding-512
    kernel: attention_1pass
    arch: fusemax-cloud
    mapping: fusemax-binding
    set: [arch.arrays.1d.length=512]
workloads: [BERT]
seq: [1K, 16K]
`

func TestParseReviewErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"designs: []\nworkloads: [BERT]\nseq: 1K\n", "r.yaml:1:10: designs must be a non-empty list"},
		{"designs:\n  - {label: a, config: x}\nworkloads: [BERT]\n", "r.yaml:3:1: workloads need seq"},
		{"designs:\n  - {label: a, config: x, colour: red}\nworkloads: [BERT]\nseq: 1K\n", `r.yaml:2:27: designs[0]: unknown key "colour"`},
		{"designs:\n  - {config: x}\nworkloads: [BERT]\nseq: 1K\n", `r.yaml:2:5: designs[0]: missing "label"`},
		{"designs:\n  - {label: a, config: x}\nworkloads: [BERT]\nseq: 1K..2*2\n", "r.yaml:4:6: seq: "},
		{"designs:\n  - {label: a, config: x}\nworkloads: [BERTO]\nseq: 1K\n", `unknown workload "BERTO"`},
		{"designs:\n  - {label: a, config: x}\n  - {label: a, config: y}\nworkloads: [BERT]\nseq: 1K\n", `label "a" is used twice`},
		{"baseline: z\ndesigns:\n  - {label: a, config: x}\nworkloads: [BERT]\nseq: 1K\n", `baseline "z" is not a design's label`},
		{"energy_profile: green\ndesigns:\n  - {label: a, config: x}\nworkloads: [BERT]\nseq: 1K\n", "energy_profile must be one of"},
		{"designs:\n  - {label: a, config: x}\n", "name the shapes"},
		{"designs: [\n", "r.yaml:"},
	}
	for _, c := range cases {
		_, err := ParseReview("r.yaml", []byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseReview(%q): %v; want %q", c.src, err, c.want)
		}
	}
}

func testReview(t *testing.T) *Review {
	t.Helper()
	r, err := ParseReview("r.yaml", []byte(reviewYAML))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCompareMatchesSimulate checks every compared point against
// lower.Simulate called directly, as fusemax simulate does.
func TestCompareMatchesSimulate(t *testing.T) {
	r := testReview(t)
	c, err := Compare(r, NewEvaluator(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	prog, _ := kernels.Load("attention_1pass")
	for ci, cs := range r.Cases {
		a, _ := arch.Load("fusemax-cloud", []string{"arrays.1d.length=512"})
		m, _ := lower.LoadMapping("fusemax-binding", cs.Shape, nil)
		want, err := lower.Simulate(prog.Cascades[0], a, m, cs.Shape, lower.Options{EnergyProfile: lower.ProfileFuseMaxMicro24}, sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := c.Tables[ci][2]
		if got.M.LatencyS != want.LatencyS || got.M.EnergyPJ != want.EnergyPJ || got.M.TrafficBytes != want.TrafficBytes {
			t.Errorf("%s: compare gives %g s %g pJ, simulate %g s %g pJ", cs.Name, got.M.LatencyS, got.M.EnergyPJ, want.LatencyS, want.EnergyPJ)
		}
		base := c.Tables[ci][0]
		if base.Speedup != 1 || base.EnergyRatio != 1 {
			t.Errorf("%s: the baseline's speedup %g, energy ratio %g; want 1", cs.Name, base.Speedup, base.EnergyRatio)
		}
		if s := base.M.LatencyS / got.M.LatencyS; s != got.Speedup {
			t.Errorf("%s: speedup %g, want %g", cs.Name, got.Speedup, s)
		}
		if got.M.Passes != 1 || base.M.Passes != 3 {
			t.Errorf("%s: passes %d and %d; want 1 (Cascade 5) and 3 (Cascade 4)", cs.Name, got.M.Passes, base.M.Passes)
		}
		sum := 0.0
		for _, v := range got.M.EnergyParts {
			sum += v
		}
		if math.Abs(sum-got.M.EnergyPJ) > 1e-9*got.M.EnergyPJ {
			t.Errorf("%s: energy parts sum to %g, total %g", cs.Name, sum, got.M.EnergyPJ)
		}
	}
}

// TestCompareOutputs renders every format twice from fresh evaluations:
// byte-identical, and with the rows the issue asks for.
// renderTwice compares the review twice, each time with a fresh
// evaluator and three workers, checks that every output format is
// byte-identical between the runs and returns the first run's.
func renderTwice(t *testing.T, review func() *Review) map[string]string {
	t.Helper()
	render := func() map[string]string {
		c, err := Compare(review(), NewEvaluator(), Options{Workers: 3})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, f := range Formats {
			var b bytes.Buffer
			if err := c.Write(&b, f); err != nil {
				t.Fatal(err)
			}
			out[f] = b.String()
		}
		page, err := c.HTML()
		if err != nil {
			t.Fatal(err)
		}
		out["html"] = string(page)
		return out
	}
	a, b := render(), render()
	for k := range a {
		if a[k] != b[k] {
			t.Errorf("%s output differs between two runs", k)
		}
	}
	return a
}

func TestCompareOutputs(t *testing.T) {
	a := renderTwice(t, func() *Review { return testReview(t) })
	recs, err := csv.NewReader(strings.NewReader(a["csv"])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+3*2 {
		t.Errorf("CSV has %d rows, want a header and one per design and shape (6)", len(recs))
	}
	for _, col := range []string{"speedup", "energy_ratio", "util_2d", "util_DRAM", "bound", "peak_L3_bytes", "traffic_bytes", "area_mm2", "passes", "energy_L3_pj"} {
		if !slices.Contains(recs[0], col) {
			t.Errorf("CSV lacks column %s", col)
		}
	}
	for _, want := range []string{"BERT 1K", "BERT 16K", "binding-512", "util 2d", "bound", "L3 peak"} {
		if !strings.Contains(a["table"], want) || !strings.Contains(a["markdown"], want) {
			t.Errorf("table or markdown lacks %q", want)
		}
	}
	for _, want := range []string{`id="latency-0"`, `id="energy-0"`, `id="roofline-0"`, `id="util-0"`, `id="parts-0"`, `id="parts-1"`} {
		if !strings.Contains(a["html"], want) {
			t.Errorf("HTML lacks chart %s", want)
		}
	}
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(` id="([^"]+)"`).FindAllStringSubmatch(a["html"], -1) {
		if ids[m[1]] {
			t.Errorf("HTML has two elements with id %q", m[1])
		}
		ids[m[1]] = true
	}
	if strings.Contains(a["html"], "http://") || strings.Contains(a["html"], "https://") {
		t.Error("the HTML page refers to the network")
	}
}

func TestCompareErrors(t *testing.T) {
	r := testReview(t)
	r.Designs[1].Set = []string{"arch.arrays.2d.colour=1"}
	if _, err := Compare(r, NewEvaluator(), Options{}); err == nil || !strings.Contains(err.Error(), "design binding") {
		t.Errorf("a design failing everywhere: %v", err)
	}
	r = testReview(t)
	r.Designs[1].Set = []string{"rows=1"}
	if _, err := Compare(r, NewEvaluator(), Options{}); err == nil || !strings.Contains(err.Error(), "arch.PATH=VALUE") {
		t.Errorf("a set without its spec: %v", err)
	}
}

// testSweep is 2 designs × 3 × 2 values × 2 lengths, one value too small
// to hold the binding's state.
func testSweep(t *testing.T) *Sweep {
	t.Helper()
	s, err := NewSweep(Flags{Configs: []string{"fusemax-micro24/binding", "fusemax-micro24/flat"},
		Set: []string{"arch.memory.L3.capacity=1KiB,16MiB,32MiB", "arch.arrays.1d.length=128,256"}, Workloads: []string{"BERT"}, Seq: "1K,4K"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func csvOf(t *testing.T, tb *Table) []byte {
	var b bytes.Buffer
	if err := tb.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestShardsMerge: the shards' CSVs, read back and merged, are the
// single run's CSV byte for byte; a missing or repeated shard is refused.
func TestShardsMerge(t *testing.T) {
	s := testSweep(t)
	e := NewEvaluator()
	whole, err := s.Run(e, Shard{0, 1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Len(); len(whole.Rows) != n || n != 2*3*2*2 {
		t.Fatalf("%d rows, want %d", len(whole.Rows), n)
	}
	errCol := slices.Index(whole.Header, "error")
	failed := 0
	for _, r := range whole.Rows {
		if r[errCol] != "" {
			failed++
		}
	}
	if failed == 0 || failed == len(whole.Rows) {
		t.Errorf("%d of %d points failed; the 1 KiB buffer should fail, the others not", failed, len(whole.Rows))
	}
	for _, n := range []int{3, 5, 30} {
		var names []string
		var ts []*Table
		for i := range n {
			tb, err := s.Run(e, Shard{i, n}, Options{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("shard-%d.csv", i)
			back, err := ReadTable(name, bytes.NewReader(csvOf(t, tb)))
			if err != nil {
				t.Fatal(err)
			}
			names, ts = append(names, name), append(ts, back)
		}
		m, err := Merge(names, ts)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(csvOf(t, m), csvOf(t, whole)) {
			t.Errorf("%d shards merged differ from the single run", n)
		}
		if _, err := Merge(names[1:], ts[1:]); err == nil || !strings.Contains(err.Error(), "point 0 is missing") {
			t.Errorf("merge without shard 0: %v", err)
		}
		if _, err := Merge(append(names, names[0]), append(ts, ts[0])); err == nil || !strings.Contains(err.Error(), "given twice") {
			t.Errorf("merge with shard 0 twice: %v", err)
		}
	}
}

func TestReadTableErrors(t *testing.T) {
	for _, src := range []string{"", "a,b\n1,2\n", "point,design\n0,x\n", "point,x\n\"unclosed\n"} {
		if _, err := ReadTable("s.csv", strings.NewReader(src)); err == nil {
			t.Errorf("ReadTable(%q) accepted", src)
		}
	}
}

func TestPareto(t *testing.T) {
	tb := &Table{Header: []string{"point", "design", "shape", "kernel", "passes", "latency_s", "energy_pj", "bound", "work_pe_ops", "mapping_note", "error"}}
	rows := []struct{ shape, lat, en string }{
		{"a", "1", "9"}, {"a", "2", "5"}, {"a", "3", "5"}, {"a", "4", "1"}, {"a", "5", "6"}, {"a", "", ""},
		{"b", "9", "9"}, {"b", "2", "5"},
	}
	for i, r := range rows {
		tb.Rows = append(tb.Rows, []string{fmt.Sprint(i), "d", r.shape, "k", "1", r.lat, r.en, "2d", "1", "", ""})
	}
	cols, err := tb.ParetoColumns([]string{"latency", "energy"})
	if err != nil {
		t.Fatal(err)
	}
	if got := tb.Pareto(cols); !slices.Equal(got, []int{0, 1, 3, 7}) {
		t.Errorf("front %v, want [0 1 3 7]", got)
	}
	var b bytes.Buffer
	tb.WritePareto(&b, cols, tb.Pareto(cols))
	if !strings.Contains(b.String(), "points without one of these metrics, which take no part: 1 ") {
		t.Errorf("the front does not say that a point took no part:\n%s", b.String())
	}
	for _, bad := range [][]string{{"latency"}, {"latency", "bound"}, {"latency", "colour"}, {"latency", "mapping_note"}} {
		if _, err := tb.ParetoColumns(bad); err == nil {
			t.Errorf("ParetoColumns(%v) accepted", bad)
		}
	}
}

func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(0, 0)
	p := &Progress{w: &b, now: func() time.Time { return now }, tick: time.Second, start: now}
	now = now.Add(2 * time.Second)
	p.Update(50, 100)
	if got := b.String(); !strings.Contains(got, "[###############---------------] 50/100  50% 25 pts/s ETA 0:02") {
		t.Errorf("progress %q", got)
	}
	p.Update(60, 100) // within the tick: not redrawn
	now = now.Add(2 * time.Second)
	p.Update(100, 100)
	if got := b.String(); strings.Count(got, "\r") != 2 || !strings.HasSuffix(got, "ETA 0:00 \n") {
		t.Errorf("progress %q", got)
	}
}

func TestLayoutDiff(t *testing.T) {
	a := layout{w: 2, h: 2, cells: []float64{0, 0.5, 0.5, 0}}
	if d := a.diff(a); d != "" {
		t.Errorf("a layout differs from itself: %s", d)
	}
	moved := layout{w: 2, h: 2, cells: []float64{0.5, 0, 0, 0.5}}
	if d := a.diff(moved); !strings.Contains(d, "darkness") {
		t.Errorf("a moved block is not reported: %q", d)
	}
	if d := a.diff(layout{w: 3, h: 2, cells: make([]float64, 6)}); !strings.Contains(d, "size") {
		t.Errorf("a resized page is not reported: %q", d)
	}
}

// TestLoadReviewLocalPaths: spec files named in a review file are found
// next to it.
func TestLoadReviewLocalPaths(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile(filepath.Join("..", "specs", "arch", "fusemax-cloud.yaml"))
	os.WriteFile(filepath.Join(dir, "mine.yaml"), src, 0o644)
	os.WriteFile(filepath.Join(dir, "r.yaml"), []byte("designs:\n  - {label: a, kernel: attention_1pass, arch: mine.yaml, mapping: fusemax-binding}\nshapes:\n  - {B: 1, H: 2, E: 64, F: 64, M: 1K, P: 1K}\n"), 0o644)
	r, err := LoadReview(filepath.Join(dir, "r.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Compare(r, NewEvaluator(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Tables[0][0].M; m == nil || m.Arch != "fusemax-cloud" || m.Shape["M"] != 1024 {
		t.Errorf("the review's local arch file was not used: %+v", m)
	}
}

// TestMappingChosen: a design with no mapping gets the derived one, as
// simulate without --mapping (the workload's D and S left out, not counted
// as instances), and says so; mapping: shipped tries the shipped mappings
// written for the kernel.
func TestMappingChosen(t *testing.T) {
	cases, err := WorkloadCases([]string{"BERT"}, []int64{4096})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ mapping, want, note string }{
		{"", "derived", "no mapping named: bound by cost"},
		{Shipped, "fusemax-binding", "least energy×delay of fusemax-arch, fusemax-binding, fusemax-cascade"},
	} {
		ds, err := DesignsFromFlags([]string{"attention_1pass"}, nil, []string{"fusemax-cloud"}, tc.mapping, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := NewEvaluator().Evaluate(ds[0], cases[0], DefaultProfile)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.MappingNote, tc.note) || m.Mapping != tc.want || m.Derived != (tc.mapping == "") {
			t.Errorf("mapping %q: got %s (%s, derived %v); want %s", tc.mapping, m.Mapping, m.MappingNote, m.Derived, tc.want)
		}
	}
	// Where the derivation finds nothing that fits, the shipped mappings
	// stand in, and the note says so.
	big, _ := WorkloadCases([]string{"BERT"}, []int64{1 << 16})
	ds3, _ := DesignsFromFlags([]string{"attention_3pass"}, nil, []string{"fusemax-cloud"}, "", nil)
	m3, err := NewEvaluator().Evaluate(ds3[0], big[0], DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	if !m3.Derived && !strings.Contains(m3.MappingNote, "the derived mapping does not run (") {
		t.Errorf("3-pass at 64K: mapping %s without saying why the derived one gave way: %s", m3.Mapping, m3.MappingNote)
	}
	// The derived point is what simulate's path gives on the attention shape.
	prog, _ := kernels.Load("attention_1pass")
	a, _ := arch.Load("fusemax-cloud", nil)
	shape := map[string]int64{"B": 64, "H": 12, "E": 64, "F": 64, "M": 4096, "P": 4096}
	dm, _, err := lower.DeriveMapping(prog.Cascades[0], a, shape)
	if err != nil {
		t.Fatal(err)
	}
	want, err := lower.Simulate(prog.Cascades[0], a, dm, shape, lower.Options{EnergyProfile: DefaultProfile}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := DesignsFromFlags([]string{"attention_1pass"}, nil, []string{"fusemax-cloud"}, "", nil)
	got, _ := NewEvaluator().Evaluate(ds[0], cases[0], DefaultProfile)
	if got.LatencyS != want.LatencyS || got.EnergyPJ != want.EnergyPJ {
		t.Errorf("derived design: %g s, %g pJ; simulate's path gives %g s, %g pJ", got.LatencyS, got.EnergyPJ, want.LatencyS, want.EnergyPJ)
	}
}

// TestGPUDesign checks a GPU design against lower/gpu called directly, as
// simulate does, and that the model's missing energy is no number.
func TestGPUDesign(t *testing.T) {
	r, err := LoadReview(filepath.Join("..", "docs", "reviews", "fusemax-vs-gpus.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r.Cases = r.Cases[:2]
	c, err := Compare(r, NewEvaluator(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	prog, _ := kernels.Load("attention_1pass")
	a, _ := arch.Load("h100-sxm5-80gb", nil)
	m, _ := gpu.LoadMapping("fa3", nil)
	for ci, cs := range r.Cases {
		shape := map[string]int64{}
		for _, k := range []string{"B", "H", "E", "F", "M", "P"} {
			shape[k] = cs.Shape[k]
		}
		want, err := gpu.Simulate(prog.Cascades[0], a, m, shape, "fp16")
		if err != nil {
			t.Fatal(err)
		}
		got := c.Tables[ci][3]
		if got.M == nil || got.M.LatencyS > want.LatencyS || got.M.Arch != "h100-sxm5-80gb" {
			t.Fatalf("%s: h100 design %+v; fa3 alone gives %g s", cs.Name, got.M, want.LatencyS)
		}
		if !math.IsNaN(got.EnergyRatio) || !math.IsNaN(got.M.EnergyPJ) || math.IsNaN(got.Speedup) {
			t.Errorf("%s: energy ratio %g, energy %g, speedup %g; want no energy, a speedup", cs.Name, got.EnergyRatio, got.M.EnergyPJ, got.Speedup)
		}
	}
	page, _ := c.HTML()
	if strings.Contains(string(page), "NaN") {
		t.Error("the report prints NaN")
	}
}

// TestGPUReviewFile runs the shipped GPU review file end to end, twice:
// byte-identical outputs, every GPU design in the latency and roofline
// charts, and the points that do not fit a GPU's HBM kept with the reason.
func TestGPUReviewFile(t *testing.T) {
	load := func() *Review {
		r, err := LoadReview(filepath.Join("..", "docs", "reviews", "fusemax-vs-gpus.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	out := renderTwice(t, load)
	latency := out["html"][strings.Index(out["html"], `id="latency-0"`):]
	latency = latency[:strings.Index(latency, "</svg>")]
	roof := out["html"][strings.Index(out["html"], `id="roofline-0"`):]
	roof = roof[:strings.Index(roof, "</svg>")]
	for _, d := range []string{"a100", "h100", "h200", "h100-unfused"} {
		if !strings.Contains(latency, "<title>"+d+" at 1K:") || !strings.Contains(roof, "<title>"+d+", BERT 1K:") {
			t.Errorf("GPU design %s is missing from the latency or roofline chart", d)
		}
	}
	for _, want := range []string{"more than the 80 GB of HBM", "no energy model", "least latency of fa2, fa3, standard"} {
		if !strings.Contains(out["markdown"]+out["html"], want) {
			t.Errorf("the GPU review does not say %q", want)
		}
	}
}

package gpu

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/sim"
)

// Report is one simulated GPU design point.
type Report struct {
	Kernel  string           `json:"kernel"`
	Arch    string           `json:"arch"`
	Mapping string           `json:"mapping"`
	Dtype   string           `json:"dtype"`
	Shape   map[string]int64 `json:"shape"` // every size used, the mapping's key block included
	Tile    TileReport       `json:"tile"`
	// LatencyS is the kernel's time; TFLOPS its useful product FLOPs per
	// second (the published convention: 4·seqlen²·headdim per head, masked
	// work not counted).
	LatencyS    float64 `json:"latency_s"`
	Cycles      float64 `json:"cycles"`
	TFLOPS      float64 `json:"tflops"`
	UsefulFLOPs float64 `json:"useful_flops"`
	// PeakFraction is TFLOPS over the tensor cores' dense peak on the
	// mapping's instruction path and dtype.
	PeakFraction float64 `json:"peak_fraction"`
	// Utilization is each unit's busy share of the run on the busiest SM:
	// tensor, fma, sfu, smem, and that SM's share of L2 and HBM.
	Utilization map[string]float64 `json:"utilization"`
	BoundBy     string             `json:"bound_by"`
	Occupancy   Occupancy          `json:"occupancy"`
	Grid        GridReport         `json:"grid"`
	// PhaseActivity is each phase's share of its unit's time (tensor
	// products; FMA/SFU element-wise work), keyed by its Einsums.
	PhaseActivity  map[string]float64 `json:"phase_activity"`
	HBMBytes       float64            `json:"hbm_bytes"`
	EnergyModelled bool               `json:"energy_modelled"`
	Notes          []string           `json:"notes,omitempty"`
	SimulatedOps   int64              `json:"simulated_ops"`
	SkippedIters   int64              `json:"fast_forwarded_iterations"`
}

// TileReport is the tile the mapping chose.
type TileReport struct {
	BlockM    int64 `json:"block_m"`
	BlockN    int64 `json:"block_n"`
	Warps     int64 `json:"warps"`
	Consumers int   `json:"consumer_chains"` // independent consumers of one CTA in the model
	Stages    int   `json:"stages"`
}

// GridReport is how the grid meets the SMs.
type GridReport struct {
	CTAs int64 `json:"ctas"` // CTAs (or persistent tiles)
	// Waves is CTAs over what the GPU holds at once; WavesCeil the rounds
	// the busiest SM runs.
	Waves        float64 `json:"waves"`
	WavesCeil    int64   `json:"waves_ceil"`
	ActiveSMs    int64   `json:"active_sms"`
	BusiestSM    int64   `json:"ctas_on_busiest_sm"`
	KeySteps     int64   `json:"key_steps_per_query_block"` // unmasked
	TilesSkipped int64   `json:"tiles_skipped"`
	TilesPartial int64   `json:"tiles_partial"`
	TilesFull    int64   `json:"tiles_full"`
}

// Dtypes maps the supported dtypes to their bytes per element.
var Dtypes = map[string]float64{"fp16": 2, "bf16": 2, "fp8": 1, "tf32": 4}

// Simulate maps cascade c onto GPU spec a under mapping m at a shape
// (sizes the cascade does not name, listed in the mapping's instances,
// count independent CTAs) and runs the busiest SM's schedule.
func Simulate(c *einsum.Cascade, a *arch.Spec, m *Mapping, shape map[string]int64, dtype string) (*Report, error) {
	g := a.GPU
	if g == nil {
		return nil, fmt.Errorf("%s: %s is not a GPU spec (kind: gpu); mapping %s needs one", a.File, a.Name, m.Name)
	}
	bytes, ok := Dtypes[dtype]
	if !ok {
		return nil, fmt.Errorf("--dtype %q: want one of %s", dtype, strings.Join(sortedKeys(Dtypes), ", "))
	}
	peak := g.SM.MMA[m.MMA][dtype]
	if _, ok := g.SM.MMA[m.MMA]; !ok {
		return nil, m.errorAt("mma", false, "mapping %s issues %s products, which %s lacks (it has %s)", m.Name, m.MMA, a.Name, strings.Join(g.SM.Paths(), ", "))
	}
	if peak == 0 {
		return nil, fmt.Errorf("--dtype %s: %s (%s) has no %s rate for it (it rates %s)", dtype, a.Name, a.File, m.MMA, strings.Join(sortedKeys(g.SM.MMA[m.MMA]), ", "))
	}
	if m.Style == "unfused" {
		return simulateUnfused(c, a, m, shape, dtype, bytes)
	}
	if m.Copy != "" && !contains(g.SM.Copy, m.Copy) {
		return nil, m.errorAt("copy", false, "mapping %s copies tiles with %s, which %s lacks (it has %s)", m.Name, m.Copy, a.Name, strings.Join(g.SM.Copy, ", "))
	}
	if m.WarpSpecial && m.Copy != "tma" {
		return nil, m.errorAt("warp_specialized", false, "a warp-specialised producer issues bulk (tma) copies; set copy: tma or warp_specialized: false")
	}
	d, err := prepare(c, g, m, shape, bytes)
	if err != nil {
		return nil, err
	}
	return d.run(a, peak, dtype)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// design is a fused mapping applied to one cascade and shape.
type design struct {
	c         *einsum.Cascade
	g         *arch.GPU
	m         *Mapping
	w         *work
	t         Tile
	occ       Occupancy
	sizes     map[string]int64
	instances int64
	qblocks   int64
	kblocks   int64
	rounds    []round // every CTA alike: the busiest SM's rounds
	slots     [][]cta // else: each slot's CTAs on the busiest SM
	grid      GridReport
	defined   float64 // share of (query, key) points the masks define
	bytes     float64
	notes     []string
	realM     int64
	realP     int64
	steps     int64 // key steps over all CTAs
	instShape map[string]int64
}

// prepare binds the shape, picks the tile, analyses the cascade and lays
// the grid out.
func prepare(c *einsum.Cascade, g *arch.GPU, m *Mapping, shape map[string]int64, bytes float64) (*design, error) {
	d := &design{c: c, g: g, m: m, bytes: bytes, instances: 1}
	if _, _, _, _, err := checkFused(c, m); err != nil {
		return nil, err
	}
	hd, ok := shape[m.HeadDim]
	if !ok {
		return nil, fmt.Errorf("--shape lacks %s, the head dimension the mapping's tile table is keyed by", m.HeadDim)
	}
	for _, masked := range []bool{false, true} {
		t, err := m.tileFor(hd, masked)
		if err != nil {
			return nil, err
		}
		if err := d.bind(shape, t); err != nil {
			return nil, err
		}
		w, err := analyze(c, &g.SM, m, d.sizes, t.BlockN, bytes)
		if err != nil {
			return nil, err
		}
		d.t, d.w = t, w
		if len(w.Masked) == 0 || masked {
			break
		}
	}
	occ, err := occupancy(&g.SM, m, d.w, d.t, bytes)
	if err != nil {
		return nil, err
	}
	d.occ = occ
	return d, d.layout()
}

// bind sets the mapping's key block, checks the shape's names and bounds
// the sizes.
func (d *design) bind(shape map[string]int64, t Tile) error {
	s := map[string]int64{}
	for k, v := range shape {
		s[k] = v
	}
	if v, ok := s[d.m.KeyBlock]; ok && v != t.BlockN {
		return fmt.Errorf("--shape %s=%d conflicts with the mapping's key block block_n=%d (the mapping sets %s; change it with --set mapping.block_n=%d)", d.m.KeyBlock, v, t.BlockN, d.m.KeyBlock, v)
	}
	key, ok := s[d.m.Key]
	if !ok {
		return fmt.Errorf("--shape lacks the key length %s", d.m.Key)
	}
	q, ok := s[d.m.Query]
	if !ok {
		return fmt.Errorf("--shape lacks the query length %s", d.m.Query)
	}
	if key > 1<<32 || q > 1<<32 {
		return fmt.Errorf("--shape %s=%d, %s=%d: sequence lengths up to 2^32 are modelled", d.m.Key, key, d.m.Query, q)
	}
	d.realM, d.realP = key, q
	kr := d.c.Rank(d.m.Key)
	delete(s, d.m.Key)
	s[d.m.KeyBlock] = t.BlockN
	if kr != nil && len(kr.Parts) == 2 {
		s[kr.Parts[0].Name] = (key + t.BlockN - 1) / t.BlockN
	}
	d.instances = 1
	d.instShape = map[string]int64{}
	for k, v := range shape {
		if d.c.Rank(k) != nil {
			continue
		}
		if !contains(d.m.Instances, k) {
			return fmt.Errorf("--shape names %s, which cascade %s lacks and mapping %s does not list among its instances (%s)", k, d.c.Name, d.m.Name, strings.Join(d.m.Instances, ", "))
		}
		d.instances *= v
		d.instShape[k] = v
		delete(s, k)
	}
	sizes, _, err := d.c.Bind(s)
	if err != nil {
		return err
	}
	d.sizes = sizes
	if err := d.fitsHBM(); err != nil {
		return err
	}
	d.qblocks = (q + t.BlockM - 1) / t.BlockM
	d.kblocks = (key + t.BlockN - 1) / t.BlockN
	if total := float64(d.qblocks) * float64(d.instances); total > 1<<40 {
		return fmt.Errorf("--shape asks for %.3g CTAs; at most 2^40 are modelled", total)
	}
	return nil
}

// layout classifies the masked tiles and deals the CTAs to the SMs.
func (d *design) layout() error {
	g, m := d.g, d.m
	total := d.qblocks * d.instances
	d.grid = GridReport{CTAs: total, KeySteps: d.kblocks, ActiveSMs: min(g.SMs, total)}
	d.grid.Waves = float64(total) / float64(g.SMs*d.occ.CTAsPerSM)
	if len(d.w.Masked) == 0 {
		d.rounds = uniform(total, g.SMs, d.occ.CTAsPerSM, cta{steps: d.kblocks})
		d.grid.TilesFull = total * d.kblocks
		d.defined = 1
		d.steps = total * d.kblocks
	} else {
		if float64(d.qblocks)*float64(d.kblocks) > maxMaskedTiles {
			return fmt.Errorf("a masked cascade at %d×%d tiles: at most %d tiles are classified", d.qblocks, d.kblocks, maxMaskedTiles)
		}
		if total > maxMaskedCTAs {
			return fmt.Errorf("a masked cascade with %d CTAs: at most %d CTAs of differing work are scheduled", total, maxMaskedCTAs)
		}
		per := make([]cta, d.qblocks)
		lp := d.w.loop
		for i := range per {
			lo := int64(i) * d.t.BlockM
			per[i] = keySteps(d.w.Masked, d.w.query, d.w.block, lp.Var, lo, min(d.realP, lo+d.t.BlockM)-1, d.kblocks, d.t.BlockN, d.sizes)
		}
		var ctas []cta
		var full, part float64
		for n := int64(0); n < d.instances; n++ {
			ctas = append(ctas, per...)
		}
		for _, c := range per {
			full += float64(c.steps - c.partial)
			part += float64(c.partial)
			d.steps += c.steps
		}
		d.steps *= d.instances
		d.grid.TilesFull = int64(full) * d.instances
		d.grid.TilesPartial = int64(part) * d.instances
		d.grid.TilesSkipped = total*d.kblocks - d.grid.TilesFull - d.grid.TilesPartial
		d.defined = (full + part/2) / float64(d.qblocks*d.kblocks)
		d.slots = assign(ctas, g.SMs, d.occ.CTAsPerSM, m.Persistent)
		d.notes = append(d.notes, "a partly masked tile costs a full tile plus its mask; it is counted as half useful in tflops")
	}
	for _, r := range d.rounds {
		d.grid.WavesCeil += r.Count
		d.grid.BusiestSM += r.Count * int64(len(r.Slots))
	}
	for _, l := range d.slots {
		d.grid.WavesCeil = max(d.grid.WavesCeil, int64(len(l)))
		d.grid.BusiestSM += int64(len(l))
	}
	if len(d.slots) > 0 && d.grid.BusiestSM > maxRounds {
		return fmt.Errorf("the busiest SM runs %d CTAs of differing work; at most %d are simulated one by one", d.grid.BusiestSM, maxRounds)
	}
	return nil
}

// rates are the busiest SM's units, bandwidths shared by the active SMs.
func (d *design) rates(peak float64) rates {
	g, sm := d.g, &d.g.SM
	act := float64(d.grid.ActiveSMs)
	r := rates{mma: peak * sm.MMAEfficiency, fma: sm.FMALanes, sfu: sm.SFULanes, smem: sm.SharedBytesClk,
		l2: g.L2.Bandwidth / g.ClockHz / act, hbm: g.HBM.Bandwidth / g.ClockHz / act,
		l2Lat: g.L2.Latency, hbmLat: g.HBM.Latency, contention: sm.Contention, miss: map[string]float64{}}
	// K and V tiles are read by every query block of an instance; L2 keeps
	// them while the instances in flight fit, so HBM serves each once.
	var perInst float64
	for _, s := range d.w.Streams {
		perInst += s.Bytes * float64(d.kblocks)
	}
	inFlight := math.Ceil(act*float64(d.occ.CTAsPerSM)/float64(d.qblocks)) + 1
	loaded := float64(d.steps) / float64(d.instances) // key tiles loaded per instance
	for _, s := range d.w.Streams {
		miss := 1.0
		if inFlight*perInst <= g.L2.Capacity && loaded > 0 {
			miss = math.Min(1, float64(d.kblocks)/loaded)
		}
		r.miss[s.Name] = miss
	}
	return r
}

func (d *design) chains() []chainSpec {
	bm := float64(d.t.BlockM)
	if d.m.Consumer == "warpgroup" {
		n := d.t.Warps / 4
		if !d.m.Pingpong {
			return []chainSpec{{rows: bm, readers: float64(n)}}
		}
		out := make([]chainSpec, n)
		for i := range out {
			out[i] = chainSpec{rows: bm / float64(n), readers: 1}
		}
		return out
	}
	return []chainSpec{{rows: bm, readers: float64(d.t.Warps)}}
}

// builder starts the busiest SM's schedule at the tensor cores' peak.
func (d *design) builder(peak float64) *builder {
	b := &builder{w: d.w, m: d.m, r: d.rates(peak), bm: float64(d.t.BlockM), chains: d.chains(),
		sched: &sim.Schedule{ClockHz: d.g.ClockHz, EnergyPJ: map[string]float64{}}}
	for _, n := range unitNames {
		b.sched.Units = append(b.sched.Units, sim.Unit{Name: n, Memory: n == "hbm"})
	}
	b.selectPt = d.w.MaskPts * d.w.SelectCost["fma"]
	return b
}

func (d *design) run(a *arch.Spec, peak float64, dtype string) (*Report, error) {
	b := d.builder(peak)
	var sched *sim.Schedule
	switch {
	case len(d.slots) == 1:
		// One slot (a persistent schedule): runs of alike CTAs are rounds,
		// one loop each, so the schedule grows with the distinct CTAs, not
		// with all of them (the engine's snapshots cost the schedule's size).
		sched = b.program(runs(d.slots[0]))
	case d.slots != nil:
		sched = b.programSlots(d.slots)
	default:
		sched = b.program(d.rounds)
	}
	res, err := sim.Run(sched, sim.Options{})
	if err != nil {
		return nil, err
	}
	return d.report(a, res, peak, dtype, len(b.chains)), nil
}

func (d *design) report(a *arch.Spec, res *sim.Result, peak float64, dtype string, chains int) *Report {
	useful := d.w.UsefulFLOPsPerPt * float64(d.realM) * float64(d.realP) * float64(d.instances) * d.defined
	rep := &Report{Kernel: d.c.Name, Arch: a.Name, Mapping: d.m.Name, Dtype: dtype, Shape: map[string]int64{},
		Tile:     TileReport{BlockM: d.t.BlockM, BlockN: d.t.BlockN, Warps: d.t.Warps, Consumers: chains, Stages: d.m.Stages},
		LatencyS: res.Seconds, Cycles: res.Cycles, UsefulFLOPs: useful, Utilization: res.Utilization, Occupancy: d.occ, Grid: d.grid,
		PhaseActivity: res.Activity, EnergyModelled: false, SimulatedOps: res.Issued, SkippedIters: res.Skipped}
	for k, v := range d.sizes {
		rep.Shape[k] = v
	}
	rep.Shape[d.m.Key] = d.realM
	for _, k := range d.m.Instances {
		rep.Shape[k] = 1
	}
	for k, v := range d.instShape {
		rep.Shape[k] = v
	}
	if res.Seconds > 0 {
		rep.TFLOPS = useful / res.Seconds / 1e12
		rep.PeakFraction = useful / res.Seconds / (peak * float64(d.g.SMs) * d.g.ClockHz)
	}
	// HBM traffic: the busiest SM's bytes stand for every active SM's.
	rep.HBMBytes = res.TrafficBytes * float64(d.grid.CTAs) / float64(max(d.grid.BusiestSM, 1))
	rep.BoundBy = boundBy(res.Utilization)
	rep.Notes = append(d.notes, fmt.Sprintf("energy is not modelled for %s (the spec gives no per-action energies)", a.Name))
	return rep
}

// boundBy is the busiest unit; a run whose busiest unit is idle most of
// the time is bound by latency (dependencies, waves), not a unit.
func boundBy(u map[string]float64) string {
	names := make([]string, 0, len(u))
	for k := range u {
		names = append(names, k)
	}
	sort.Strings(names)
	best := ""
	for _, n := range names {
		if best == "" || u[n] > u[best] {
			best = n
		}
	}
	if u[best] < 0.5 {
		return "latency"
	}
	return best
}

// fitsHBM checks that the cascade's inputs and outputs, over every
// instance, fit the GPU's HBM.
func (d *design) fitsHBM() error {
	total := 0.0
	for _, t := range append(append([]*einsum.Tensor{}, d.c.Inputs...), d.c.Outputs...) {
		n, err := t.Size().Eval(d.sizes)
		if err != nil {
			return err
		}
		total += float64(n) * d.bytes * float64(d.instances)
	}
	if hbm := d.g.HBM.Capacity; total > hbm {
		return fmt.Errorf("the cascade's inputs and outputs take %.4g GB, more than the %.4g GB of HBM", total/1e9, hbm/1e9)
	}
	return nil
}

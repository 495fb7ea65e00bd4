package multi

import (
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/lower"
)

// Options tunes a multi-device run.
type Options struct {
	// Ideal is the papers' accounting: matrix FLOPs at the device's peak,
	// no link latency, no memory bound (PeakModel).
	Ideal bool
	// Model overrides the per-device model ModelFor would pick.
	Model DeviceModel
	// Lower tunes the single-device lowering of a LoweredModel.
	Lower lower.Options
	// ExtraFLOPsPerToken is the end-to-end workload's work outside
	// attention (projections, MLP) per token of one layer; each device
	// does it, at its peak, for the tokens whose queries it holds.
	ExtraFLOPsPerToken float64
	// Training runs the backward pass too: attention compute × 3.5 (backward
	// = 2.5 × forward, the FlashAttention convention), the extra work × 3,
	// and the ring's key/value traffic × 3 (its backward passes keys, values
	// and their gradients around again).
	Training bool
	// Merge is the cascade that merges two partial results in a tree round
	// (the library's ring_merge: inputs PM, PD, PNV over a shard rank S);
	// nil charges the merges nothing.
	Merge *einsum.Cascade
}

// DeviceReport is one device's share.
type DeviceReport struct {
	Device         int     `json:"device"`
	ComputeS       float64 `json:"compute_s"`
	CommunicationS float64 `json:"communication_s"`
	// LiveWork is the share of the device's block pairs, summed over steps,
	// that the mask does not skip, in units of one full block pair.
	LiveWork      float64 `json:"live_block_pairs"`
	MemoryBytes   float64 `json:"memory_bytes"`
	ResidentBytes float64 `json:"resident_bytes"`
	InFlightBytes float64 `json:"in_flight_bytes"`
	StateBytes    float64 `json:"state_bytes"`
}

// Report is a simulated multi-device design point.
type Report struct {
	Kernel        string             `json:"kernel"`
	System        string             `json:"system"`
	Mapping       string             `json:"mapping"`
	Schedule      string             `json:"schedule"`
	Mode          string             `json:"mode"` // ideal or realistic
	DeviceModel   string             `json:"device_model"`
	Shape         map[string]int64   `json:"shape"`
	Devices       int                `json:"devices"`
	Group         int                `json:"group"` // devices per sequence-parallel group
	LatencyS      float64            `json:"latency_s"`
	NoCommS       float64            `json:"latency_without_communication_s"`
	ExposedCommS  float64            `json:"exposed_communication_s"`
	SingleDeviceS float64            `json:"single_device_s"`
	Speedup       float64            `json:"speedup_over_one_device"`
	CommSteps     int                `json:"communication_steps"`
	Imbalance     float64            `json:"compute_imbalance"` // max / mean compute over devices
	LinkUtil      map[string]float64 `json:"link_utilization"`
	LinkBytes     float64            `json:"link_bytes"`
	LinkEnergyPJ  float64            `json:"link_energy_pj"`
	MemoryFits    bool               `json:"memory_fits"`
	PerDevice     []DeviceReport     `json:"per_device"`
	// Notes says what in the specs had no effect on this run.
	Notes []string `json:"notes,omitempty"`
}

// run is one multi-device evaluation in progress.
type run struct {
	c            *einsum.Cascade
	dense        *einsum.Cascade // c without filters: what the device model times
	sys          *arch.System
	m            *Mapping
	opt          Options
	model        DeviceModel
	shape        map[string]int64
	query, key   string
	q, k         int64 // global query and key extents
	g, groups    int64
	order        []int // the group's devices in ring order
	mask         mask
	tq, tk       int64
	attnFactor   float64
	commFactor   float64
	extraFactor  float64
	devs         []DeviceReport
	emit         func(b *builder) error
	commSteps    int
	singleDevice float64
}

// Simulate runs cascade c on system s under sharding mapping m at shape.
func Simulate(c *einsum.Cascade, s *arch.System, m *Mapping, shape map[string]int64, opt Options) (*Report, error) {
	r, err := prepare(c, s, m, shape, opt)
	if err != nil {
		return nil, err
	}
	switch m.Schedule {
	case Ring, Striped:
		err = r.ring()
	case Tree:
		err = r.tree()
	default:
		err = r.ulysses()
	}
	if err != nil {
		return nil, err
	}
	if err := r.single(); err != nil {
		return nil, err
	}
	return r.report()
}

func prepare(c *einsum.Cascade, s *arch.System, m *Mapping, shape map[string]int64, opt Options) (*run, error) {
	r := &run{c: c, dense: unmasked(c), sys: s, m: m, opt: opt, shape: shape, attnFactor: 1, commFactor: 1, extraFactor: 1}
	if opt.Training {
		r.attnFactor, r.commFactor, r.extraFactor = 3.5, 3, 3
	}
	r.model = opt.Model
	if r.model == nil {
		md, err := ModelFor(s, opt.Ideal, opt.Lower)
		if err != nil {
			return nil, err
		}
		r.model = md
	}
	if err := r.ranks(); err != nil {
		return nil, err
	}
	if err := r.devices(); err != nil {
		return nil, err
	}
	sizes, _, err := bind(c, shape)
	if err != nil {
		return nil, err
	}
	r.mask = compileMask(c, sizes, r.query, r.key)
	r.tq, r.tk = r.q, r.k
	if v, ok := m.MaskTile[r.query]; ok {
		r.tq = v
	}
	if v, ok := m.MaskTile[r.key]; ok {
		r.tk = v
	}
	return r, nil
}

// ranks finds the query rank (the sharded rank an output is indexed by)
// and the key rank.
func (r *run) ranks() error {
	for _, name := range sortedRanks(r.m.Shard) {
		rk := r.c.Rank(name)
		if rk == nil || rk.Parent != nil {
			return r.m.errorAt("shard."+name, true, "shard.%s: cascade %s has no unsplit rank %s (shard one of: %s)", name, r.c.Name, name, unsplitRanks(r.c))
		}
		if _, ok := r.shape[name]; !ok {
			return r.m.errorAt("shard."+name, true, "the shape gives no size for %s, which the mapping shards (give it in --shape)", name)
		}
		if indexesOutput(r.c, rk) {
			r.query = name
		} else {
			r.key = name
		}
	}
	if r.query == "" || r.key == "" {
		return r.m.errorAt("shard", true, "shard must name one rank that indexes an output of %s (the queries) and one that does not (the keys)", r.c.Name)
	}
	if r.m.Schedule != Ulysses {
		want := ShardRing
		if r.m.Schedule == Tree {
			want = ShardDevices
		}
		if r.m.Shard[r.key] != want {
			return r.m.errorAt("shard."+r.key, false, "schedule %s spreads the keys (%s) as %s, not %s", r.m.Schedule, r.key, want, r.m.Shard[r.key])
		}
	}
	r.q, r.k = r.shape[r.query], r.shape[r.key]
	return nil
}

// unsplitRanks names the ranks of c a mapping may shard.
func unsplitRanks(c *einsum.Cascade) string {
	var names []string
	for _, rk := range c.Ranks {
		if rk.Parent == nil {
			names = append(names, rk.Name)
		}
	}
	return strings.Join(names, ", ")
}

func indexesOutput(c *einsum.Cascade, rk *einsum.Rank) bool {
	for _, t := range c.Outputs {
		for _, d := range t.Dims {
			if d.Rank != nil && d.Rank.Root() == rk {
				return true
			}
		}
	}
	return false
}

// maxGroup bounds a ring or all-to-all group: its schedule has a compute
// and a transfer per device and step (or peer).
const maxGroup = 256

// devices sizes the sequence-parallel group and checks every division.
func (r *run) devices() error {
	n := int64(r.sys.Count)
	r.g = n
	if r.m.Group > 0 {
		r.g = r.m.Group
	}
	if r.g > n || n%r.g != 0 {
		return r.m.errorAt("group", false, "group = %d does not divide the %d devices of %s (give a divisor of %d)", r.g, n, r.sys.Name, n)
	}
	r.groups = n / r.g
	// A size that does not divide is the shape's; it is reported where the
	// mapping shards that rank.
	div := func(spot, what string, size, by int64) error {
		if by > 1 && size%by != 0 {
			return r.m.errorAt(spot, false, "%s = %d does not divide among %d devices (%s)", what, size, by, r.sys.Name)
		}
		return nil
	}
	groupSpot := "schedule"
	if r.m.Group > 0 {
		groupSpot = "group"
	}
	heads := int64(1)
	if r.m.Heads != "" {
		heads = r.shape[r.m.Heads]
	}
	if r.groups > 1 && r.m.Heads != "" && heads == 0 {
		return r.m.errorAt("heads", false, "heads: the shape gives no size for %s, the heads rank that %d groups of %d devices shard (give %s in --shape)", r.m.Heads, r.groups, r.g, r.m.Heads)
	}
	if r.groups > 1 && r.m.Heads == "" {
		return r.m.errorAt("group", false, "%d groups of %d devices shard the heads, but the mapping names no heads rank in the shape (set heads, or group: %d)", r.groups, r.g, n)
	}
	checks := []error{div("heads", "heads "+r.m.Heads, heads, r.groups), div("shard."+r.key, r.key, r.k, r.g)}
	if r.m.Shard[r.query] != ShardReplicated {
		checks = append(checks, div("shard."+r.query, r.query, r.q, r.g))
	}
	if r.m.Schedule == Ulysses {
		checks = append(checks, div("heads", "heads "+r.m.Heads, heads/r.groups, r.g))
	}
	if r.m.Schedule != Tree && r.g > maxGroup {
		checks = append(checks, r.m.errorAt(groupSpot, false, "schedule %s over %d devices unrolls %d² operations: at most %d devices per group (set the mapping's group)", r.m.Schedule, r.g, r.g, maxGroup))
	}
	if r.m.Schedule == Tree && bits.OnesCount64(uint64(r.g)) != 1 {
		checks = append(checks, r.m.errorAt(groupSpot, false, "tree merges over a power-of-two group, not %d devices", r.g))
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	r.order = r.sys.RingOrder()[:r.g]
	r.devs = make([]DeviceReport, r.g)
	for i := range r.devs {
		r.devs[i].Device = r.order[i]
	}
	return nil
}

// at is the shape with the query, key and heads extents replaced.
func (r *run) at(q, k, headsDiv int64) map[string]int64 {
	s := map[string]int64{}
	for n, v := range r.shape {
		s[n] = v
	}
	s[r.query], s[r.key] = q, k
	if r.m.Heads != "" {
		s[r.m.Heads] = r.shape[r.m.Heads] / headsDiv
	}
	return s
}

// extraSeconds is the non-attention work of tokens query tokens on one
// device, its heads' share when groups shard heads.
func (r *run) extraSeconds(tokens int64, share float64) float64 {
	return r.opt.ExtraFLOPsPerToken * float64(tokens) * share * r.extraFactor / r.sys.Device.PeakFLOPs
}

// single times the whole problem on one device, the speedup's baseline.
func (r *run) single() error {
	cost, err := r.model.Cost(r.dense, r.shape)
	if err != nil {
		return err
	}
	full := layout{kind: ShardReplicated}
	ql, kl := full, full
	ql.block, kl.block = r.q, r.k
	if err := r.mask.checkTiles(1, r.q, r.k, r.tq, r.tk); err != nil {
		return err
	}
	frac := r.mask.liveFraction(ql, 0, kl, 0, r.tq, r.tk)
	r.singleDevice = cost.Seconds*frac*r.attnFactor + r.extraSeconds(r.q, 1)
	return nil
}

func (r *run) report() (*Report, error) {
	b := newBuilder(r.sys, false)
	if err := r.emit(b); err != nil {
		return nil, err
	}
	res, err := b.run()
	if err != nil {
		return nil, err
	}
	b0 := newBuilder(r.sys, true)
	if err := r.emit(b0); err != nil {
		return nil, err
	}
	res0, err := b0.run()
	if err != nil {
		return nil, err
	}
	mode := "realistic"
	if r.opt.Ideal {
		mode = "ideal"
	}
	rep := &Report{Kernel: r.c.Name, System: r.sys.Name, Mapping: r.m.Name, Schedule: r.m.Schedule, Mode: mode,
		DeviceModel: r.model.Describe(), Shape: r.shape, Devices: r.sys.Count, Group: int(r.g),
		LatencyS: res.Seconds, NoCommS: res0.Seconds, ExposedCommS: max(0, res.Seconds-res0.Seconds),
		SingleDeviceS: r.singleDevice, CommSteps: r.commSteps, LinkUtil: linkUtilization(res, r.sys),
		LinkBytes: res.TrafficBytes, LinkEnergyPJ: res.EnergyPJ, MemoryFits: true}
	if res.Seconds > 0 {
		rep.Speedup = r.singleDevice / res.Seconds
	}
	var sum, most float64
	for i := range r.devs {
		d := &r.devs[i]
		d.ComputeS = res.Busy[computeUnit(d.Device)] / clockHz
		for _, l := range r.sys.LinkNames() {
			d.CommunicationS += res.Busy[linkUnit(d.Device, l)] / clockHz
		}
		d.MemoryBytes = d.ResidentBytes + d.InFlightBytes + d.StateBytes
		if mem := r.sys.Device.MemoryBytes; mem > 0 && d.MemoryBytes > mem {
			rep.MemoryFits = false
		}
		sum += d.ComputeS
		most = max(most, d.ComputeS)
	}
	if sum > 0 {
		rep.Imbalance = most / (sum / float64(len(r.devs)))
	}
	rep.PerDevice = r.devs
	rep.Notes = r.notes()
	if math.IsNaN(rep.LatencyS) || math.IsInf(rep.LatencyS, 0) {
		return nil, fmt.Errorf("the schedule's latency is not finite")
	}
	return rep, nil
}

// notes lists what the specs say that this run could not use, so that
// nothing is ignored silently.
func (r *run) notes() []string {
	var out []string
	if len(r.m.MaskTile) > 0 && len(r.mask.conds) == 0 {
		out = append(out, fmt.Sprintf("mask_tile has no effect: cascade %s has no filter on %s and %s alone, so every tile is computed", r.c.Name, r.query, r.key))
	}
	if r.m.Schedule == Tree || r.m.Schedule == Ulysses {
		if r.m.Buffers != 2 {
			out = append(out, fmt.Sprintf("buffers = %d has no effect: schedule %s holds no key/value block in flight", r.m.Buffers, r.m.Schedule))
		}
	}
	switch r.model.(type) {
	case *GPUModel, *LoweredModel:
		if r.sys.Device.AttentionFLOPs > 0 {
			out = append(out, fmt.Sprintf("device.attention (%.4g TFLOP/s) is not used: each share is lowered on %s (it is the rate model's, for a device without an arch)", r.sys.Device.AttentionFLOPs/1e12, r.sys.Device.Arch))
		}
	}
	if r.opt.Ideal {
		for _, l := range r.sys.LinkNames() {
			if r.sys.Links[l].LatencyS > 0 {
				out = append(out, fmt.Sprintf("link %s's latency is not charged in the ideal mode", l))
			}
		}
	}
	if r.m.Heads != "" && r.groups == 1 && r.m.Schedule != Ulysses {
		if _, ok := r.shape[r.m.Heads]; !ok {
			out = append(out, fmt.Sprintf("heads = %s is not in the shape", r.m.Heads))
		}
	}
	return out
}

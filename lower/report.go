package lower

import (
	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/sim"
)

// Report is a simulated design point, as the CLI prints it.
type Report struct {
	Kernel   string   `json:"kernel"`
	Arch     string   `json:"arch"`
	Mapping  string   `json:"mapping"`
	Variant  string   `json:"mapping_variant,omitempty"`
	Searched []string `json:"mapping_search,omitempty"` // the values a mapping search chose
	// MappingDerived says no mapping was given: DeriveMapping wrote it, and
	// MappingSpec is its text with the search's choice (save it to edit).
	MappingDerived bool             `json:"mapping_derived,omitempty"`
	MappingSpec    string           `json:"mapping_spec,omitempty"`
	Shape          map[string]int64 `json:"shape"`
	LatencyS       float64          `json:"latency_s"`
	Cycles         float64          `json:"cycles"`
	TrafficBytes   float64          `json:"traffic_bytes"`
	// TrafficSkippedBytes is the DRAM traffic masked tiles leave
	// untransferred (not in TrafficBytes): what the masks save.
	TrafficSkippedBytes float64            `json:"traffic_skipped_bytes,omitempty"`
	EnergyPJ            float64            `json:"energy_pj"`
	Utilization         map[string]float64 `json:"utilization"`
	EinsumActivity      map[string]float64 `json:"einsum_activity"`
	BufferPeakBytes     map[string]float64 `json:"buffer_peak_bytes"`
	BufferNeedBytes     map[string]float64 `json:"buffer_need_bytes"`
	// LevelTrafficBytes is, per on-chip memory level, the bytes read from
	// and written to it (DRAM's is TrafficBytes): the traffic across each
	// level boundary.
	LevelTrafficBytes map[string]float64 `json:"level_traffic_bytes"`
	AreaUM2           float64            `json:"area_um2"`
	AreaParts         map[string]float64 `json:"area_parts_um2"`
	Derived           map[string]int64   `json:"derived"`
	EnergyByAction    map[string]float64 `json:"energy_by_action_pj"`
	Einsums           []EinsumPlan       `json:"einsums"`
	Groups            int64              `json:"groups"`
	SimulatedOps      int64              `json:"simulated_ops"`
	SkippedIters      int64              `json:"fast_forwarded_iterations"`
	Warnings          []string           `json:"warnings,omitempty"`
	// Selections says how each tensor a data-dependent filter reads was
	// costed (from its values, a declared density, or assumed dense).
	Selections []SelectionUse `json:"selections,omitempty"`
	// Program is the lowered program when Options.PrintSchedule asks.
	Program string `json:"-"`
}

// simulateOne lowers and runs one mapping.
func simulateOne(c *einsum.Cascade, a *arch.Spec, m *Mapping, shape map[string]int64, opt Options, so sim.Options) (*Report, error) {
	plan, err := Lower(c, a, m, shape, opt)
	if err != nil {
		return nil, err
	}
	r, err := sim.Run(plan.Schedule, so)
	if err != nil {
		return nil, err
	}
	rep := &Report{Kernel: c.Name, Arch: a.Name, Mapping: m.Name, Variant: plan.Variant, Shape: map[string]int64{},
		LatencyS: r.Seconds, Cycles: r.Cycles, TrafficBytes: r.TrafficBytes, EnergyPJ: r.EnergyPJ,
		Utilization: r.Utilization, EinsumActivity: r.Activity, BufferPeakBytes: r.BufferPeak, BufferNeedBytes: plan.Need,
		Derived: plan.Derived, EnergyByAction: r.EnergyByAction, Einsums: plan.Einsums, Groups: plan.Groups,
		SimulatedOps: r.Issued, SkippedIters: r.Skipped, Warnings: plan.Warnings, Selections: plan.Selections, TrafficSkippedBytes: plan.TrafficSkipped}
	for k, v := range plan.Sizes {
		rep.Shape[k] = v
	}
	rep.AreaUM2, rep.AreaParts = a.Area()
	rep.LevelTrafficBytes = map[string]float64{}
	for _, mem := range a.Memories[1:] {
		rep.LevelTrafficBytes[mem.Name] = (r.Actions[mem.Name+".read"] + r.Actions[mem.Name+".write"]) * mem.WidthBytes
	}
	if opt.PrintSchedule {
		rep.Program = FormatPlan(plan)
	}
	return rep, nil
}

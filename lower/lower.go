package lower

import (
	"fmt"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/sim"
)

// Options tunes the lowering.
type Options struct {
	// PipelineLatency charges every tile operation on a 2D array the
	// fill and drain of its systolic wavefront (rows+cols-2 cycles), which
	// the paper's ideal-throughput model leaves out: dependents wait for it,
	// the array does not.
	PipelineLatency bool
	// EnergyProfile names the accounting profile (LoadProfile: a built-in
	// name or a file), for latency and energy: ProfilePhysical (the
	// default, "") charges the hardware as its specs describe it;
	// ProfileFuseMaxMicro24 is the FuseMax artifact's accounting, every
	// quirk of it data in specs/profiles/fusemax-micro24.yaml with its
	// source in MODEL.md.
	EnergyProfile string
	// Objective is what a mapping search minimises: ObjectiveEDP (the
	// default, ""), ObjectiveLatency or ObjectiveEnergy.
	Objective string
	// PrintSchedule fills Report.Program with the lowered program
	// (FormatPlan), for `simulate --print-schedule`.
	PrintSchedule bool
	// NoteUnusedShape warns of shape names neither the cascade nor the
	// mapping uses (a typed --shape; a built-in workload names more sizes
	// than any one kernel uses).
	NoteUnusedShape bool
	// Selections are what is known of the tensors data-dependent filters
	// read, by name (datamask.go): their values or a declared density.
	Selections map[string]Selection
	// selCache keeps what Selections' tensors hold, by name and shape, for
	// every candidate of one search (Simulate sets it).
	selCache map[string]*selData
}

// Plan is a lowered design point: the schedule and what the lowering
// decided on the way.
type Plan struct {
	Schedule *sim.Schedule
	Sizes    map[string]int64 // every size used: shape, machine-fixed and derived
	Derived  map[string]int64 // values computed from capacities (P1)
	Groups   int64            // iterations of the outer DRAM loop
	Variant  string           // the mapping variant applied, if any
	Einsums  []EinsumPlan
	// Warnings are what the lowering noticed and did not refuse (unused
	// shape names, mapping entries a cascade has no use for).
	Warnings []string
	// Selections says how each tensor a data-dependent filter reads was
	// costed: from its values, a declared density, or assumed dense.
	Selections []SelectionUse
	// TrafficSkipped is the DRAM traffic (bytes) that masked tiles leave
	// untransferred: K/V tiles no query of a group needs.
	TrafficSkipped float64
	// L3Need is the global-buffer state the mapping keeps, per on-chip level.
	Need map[string]float64
	// lw keeps every pass's results (nests, placements, counts), for
	// CountAccesses and the pass printers.
	lw *lowering
}

// EinsumPlan summarises how one Einsum was lowered.
type EinsumPlan struct {
	Name      string
	Unit      string
	Ops       map[string]int64 // primitive operations per point
	Instances int64            // tile operations
	Cycles    float64          // per tile operation
	PEFrac    float64
	Spatial   string
	Class     string `json:"class"`              // its operation class (ClassOf)
	BoundBy   string `json:"bound_by,omitempty"` // the mapping entry that bound it
	// Masked says its points are masked (its own filter or a tensor it
	// reads); Useful is then the share of its points that are defined.
	Masked bool    `json:"masked,omitempty"`
	Useful float64 `json:"useful_fraction"`
	// Tiles is the cells of the skip grid (tiled ranks in spatial blocks ×
	// iterations), TilesSkipped those in which it does no work, and
	// WorkShare the share of its tile operations' work it does.
	// Nest is its loop nest per level, outermost first (FormatPlan).
	Nest         string  `json:"nest"`
	Tiles        int64   `json:"tiles"`
	TilesSkipped int64   `json:"tiles_skipped"`
	WorkShare    float64 `json:"work_share"`
}

// access is one tensor reference of an Einsum (a read or the output).
type access struct {
	acc     *einsum.Access
	tensor  *einsum.Tensor // after resolving views to their source
	name    string         // the tensor's own name (BK, not K)
	output  bool
	rel     map[string]bool
	keepers []int
	dram    bool
	l3      bool
	spill   bool // on-chip copy whose accesses overflow to DRAM by Mapping.Spill
	cnt     counts
	foot    float64 // words held at L3 (0 when not kept there)
	// footAt are the words held at each level between DRAM and the global
	// buffer that keeps it, by nest level.
	footAt map[int]float64
}

type eplan struct {
	e        *einsum.Einsum
	m        *EinsumMap
	unit     int
	array    *arch.Array
	nest     *nest
	acc      []*access
	prims    map[string]int64
	abstract map[string]int64
	nInst    int64
	inLoop   bool
	stage    int
	boundBy  string // the mapping entry that bound it
	spatial  []string
	op       *sim.Op
}

type lowering struct {
	c       *einsum.Cascade
	a       *arch.Spec
	m       *Mapping
	shape   map[string]int64
	sizes   map[string]int64
	derived map[string]int64
	tile    map[string]int64 // rank → extent per group
	groups  []nloop          // the outer DRAM loops shared by every Einsum
	alias   map[string]*einsum.Tensor
	ops     []*eplan
	opOf    map[*einsum.Einsum]*eplan
	offchip map[string]bool
	onchip  map[string]bool
	word    float64
	opt     Options
	prof    *Profile
	skip    map[*eplan]*skipShare // nil: nothing is masked
	sels    map[*einsum.Tensor]*selData
	selUses []SelectionUse // how each selection tensor was costed, in order met
	// skippedBytes is the DRAM traffic masked tiles leave untransferred.
	skippedBytes float64
	spill        float64 // the share of on-chip accesses that overflow to DRAM
	// loopLevel is the nest level of each outer loop the mapping places
	// below DRAM (levels.NAME.loops); the others run at DRAM.
	loopLevel map[string]int
	// warnings are what the lowering noticed but did not refuse: shape
	// names nothing uses, mapping entries for Einsums a cascade lacks.
	warnings []string
}

func (lw *lowering) warn(format string, args ...any) {
	lw.warnings = append(lw.warnings, fmt.Sprintf(format, args...))
}

// Lower maps cascade c onto machine a under mapping m for one workload
// shape (rank sizes; sizes the cascade does not name, such as B and H,
// count independent instances when the mapping lists them).
//
// It runs the passes in order, each in its own file with its own printer
// (print.go) and tests:
//
//	bind     (bind.go)     sizes; each Einsum to a unit; operations per point
//	tile     (tile.go)     the outer groups, derived sizes, each loop nest per level
//	place    (place.go)    where each tensor's tiles are kept; capacity
//	count    (count.go)    Timeloop's access counts; cycles and actions per tile operation
//	schedule (schedule.go) the sim.Schedule: operations, transfers, dependencies, holds
//
// The passes' results stay in the Plan, so CountAccesses and the printers
// read them instead of lowering again.
func Lower(c *einsum.Cascade, a *arch.Spec, m *Mapping, shape map[string]int64, opt Options) (*Plan, error) {
	prof, err := LoadProfile(opt.EnergyProfile)
	if err != nil {
		return nil, err
	}
	if len(a.Memories) < 2 {
		return nil, fmt.Errorf("%s: the mapping needs an off-chip level and a global buffer", a.File)
	}
	lw := &lowering{c: c, a: a, m: m, shape: shape, derived: map[string]int64{}, word: a.WordBytes, opt: opt, prof: prof}
	if err := lw.bind(); err != nil {
		return nil, err
	}
	if err := lw.deriveTiles(); err != nil {
		return nil, err
	}
	if err := lw.layout(); err != nil {
		return nil, err
	}
	if err := lw.capacity(); err != nil {
		return nil, err
	}
	lw.count()
	lw.sels = map[*einsum.Tensor]*selData{}
	if lw.skip, err = lw.skipShares(); err != nil {
		return nil, err
	}
	plan, err := lw.schedule()
	if plan != nil {
		plan.Selections, plan.TrafficSkipped = lw.selUses, lw.skippedBytes
	}
	return plan, err
}

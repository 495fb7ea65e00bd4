package reproduce

import (
	"sort"
	"strings"

	"github.com/fusemax/fusemax/workload"
)

// Point is one design point: a configuration (kernel + arch + mapping),
// the sizes of every rank, overrides of the arch spec, and the energy
// accounting profile.
type Point struct {
	Config  string           // config spec reference, e.g. "fusemax-micro24/binding"
	Shape   map[string]int64 // rank sizes, e.g. B, H, E, F, M, P
	ArchSet []string         // --set overrides of the arch spec, e.g. "2d.rows=64"
	Profile string           // energy accounting profile, e.g. "fusemax-micro24" or "physical"
}

// Key identifies a point: equal keys, equal results (evaluators are
// deterministic), so the driver evaluates each key once.
func (p Point) Key() string {
	return p.Config + "|" + workload.FormatShape(p.Shape) + "|" + strings.Join(p.ArchSet, ";") + "|" + p.Profile
}

// Result is what the reproduction reads from one evaluated point.
type Result struct {
	LatencyS     float64
	TrafficBytes float64 // off-chip bytes, reads and writes
	EnergyPJ     float64
	// Utilization is each compute unit's PE-weighted busy time over the
	// latency, keyed by the arch spec's unit names ("2d", "1d").
	Utilization map[string]float64
	// Activity is each Einsum's share of the latency during which its unit
	// is busy with it.
	Activity map[string]float64
	// MemoryS is how long the off-chip channel is busy (traffic/bandwidth).
	MemoryS float64
	// AreaUM2 is the spec's total area; AreaParts its components, keyed as
	// arch.Spec.Area keys them ("2d/pe", "memory/L3", ...).
	AreaUM2   float64
	AreaParts map[string]float64
}

// Evaluator evaluates design points. The shipped one runs the lowering and
// the simulator; tests substitute their own. It must be safe for concurrent
// use and deterministic.
type Evaluator interface {
	Evaluate(p Point) (*Result, error)
}

// EvaluatorFunc adapts a function to Evaluator.
type EvaluatorFunc func(Point) (*Result, error)

// Evaluate calls f.
func (f EvaluatorFunc) Evaluate(p Point) (*Result, error) { return f(p) }

func sortedKeys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

package main

import (
	"fmt"
	"math"
	"sort"

	"github.com/fusemax/fusemax/lower"
)

// finiteReport refuses a report holding a NaN or an infinity: spec values
// are bounded, but their products could still overflow, and a NaN latency
// printed with exit 0 (or a JSON encoder failing on it) is a silent wrong
// answer.
func finiteReport(r *lower.Report) error {
	scalars := map[string]float64{"latency": r.LatencyS, "cycles": r.Cycles, "traffic": r.TrafficBytes, "energy": r.EnergyPJ, "area": r.AreaUM2}
	maps := map[string]map[string]float64{"utilization": r.Utilization, "einsum activity": r.EinsumActivity,
		"buffer peak": r.BufferPeakBytes, "buffer need": r.BufferNeedBytes, "area": r.AreaParts, "energy": r.EnergyByAction}
	for what, m := range maps {
		for k, v := range m {
			scalars[what+" of "+k] = v
		}
	}
	var bad []string
	for what, v := range scalars {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			bad = append(bad, fmt.Sprintf("%s = %g", what, v))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Strings(bad)
	return fmt.Errorf("the model overflowed (%v); check the spec values and --set overrides for extreme magnitudes", bad)
}

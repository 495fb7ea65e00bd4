package lower

import (
	"fmt"
	"strings"
)

// profile is an accounting profile (Options.EnergyProfile): how the
// counted accesses are charged.
type profile struct {
	name string
	// perInstanceRF charges each array one PE's register-file accesses, as
	// Timeloop's per-instance statistics give them (MODEL.md §9.1, §13);
	// false charges every PE's.
	perInstanceRF bool
	// partitionWrap adds the global-buffer reads (and the fills below it)
	// Timeloop's wrapped 64-bit partition sizes add on large problems
	// (MODEL.md §9.6, nest.partitionWrap), for energy only.
	partitionWrap bool
	// dramReadGuard counts an output's DRAM reads only when they differ
	// from its updates (MODEL.md §9.1: a guard against a Timeloop
	// first-read-elision bug), for traffic and energy.
	dramReadGuard bool
}

var profiles = map[string]*profile{
	ProfilePhysical:       {name: ProfilePhysical, dramReadGuard: true},
	ProfileFuseMaxMicro24: {name: ProfileFuseMaxMicro24, perInstanceRF: true, partitionWrap: true, dramReadGuard: true},
}

// profileOf is the named profile; "" is ProfilePhysical.
func profileOf(name string) (*profile, error) {
	if name == "" {
		name = ProfilePhysical
	}
	p, ok := profiles[name]
	if !ok {
		return nil, fmt.Errorf("unknown energy profile %q (known: %s)", name, strings.Join(Profiles(), ", "))
	}
	return p, nil
}

// charged is what the profile charges of one access's counts: global-buffer
// reads and writes (updates and fills), register-file reads and writes.
func (pr *profile) charged(c counts) (gr, gw, rr, rw float64) {
	gr, gw = c.Reads[levelGB], c.Updates[levelGB]+c.Fills[levelGB]
	rr, rw = c.Reads[levelRF], c.Updates[levelRF]+c.Fills[levelRF]
	if pr.perInstanceRF {
		rr, rw = c.PerInst[levelRF].Reads, c.PerInst[levelRF].Updates+c.PerInst[levelRF].Fills
	}
	if pr.partitionWrap {
		gr, gw = gr+c.Wrap[levelGB].Reads, gw+c.Wrap[levelGB].Fills
		if pr.perInstanceRF {
			rr, rw = rr+c.PerInstWrap[levelRF].Reads, rw+c.PerInstWrap[levelRF].Fills
		} else {
			rr, rw = rr+c.Wrap[levelRF].Reads, rw+c.Wrap[levelRF].Fills
		}
	}
	return gr, gw, rr, rw
}

// dramRead is the DRAM reads the profile counts for an access with counts c.
func (pr *profile) dramRead(c counts, output bool) float64 {
	if output && pr.dramReadGuard && c.Reads[levelDRAM] == c.Updates[levelDRAM] {
		return 0
	}
	return c.Reads[levelDRAM]
}

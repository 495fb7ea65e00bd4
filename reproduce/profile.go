package reproduce

import (
	"github.com/fusemax/fusemax/lower"
	"github.com/fusemax/fusemax/specs"
)

// ProfileFor is the accounting profile a design point of configuration
// config is simulated under by default: that of the shipped experiment
// that evaluates it (fusemax-micro24 for the fusemax-micro24/ configs), so
// that `simulate --config` and `reproduce` report the same numbers for the
// same design point; physical for every other configuration and for a
// design given without one ("").
func ProfileFor(config string) string {
	if config == "" {
		return lower.ProfilePhysical
	}
	for _, name := range specs.Names("experiments") {
		x, err := LoadExperiment(name)
		if err != nil {
			continue
		}
		if usesConfig(x, config) {
			return x.Profile
		}
	}
	return lower.ProfilePhysical
}

func usesConfig(x *Experiment, config string) bool {
	for _, c := range x.Attention {
		if c.Config == config {
			return true
		}
	}
	for _, p := range x.Platforms {
		if p.Config == config {
			return true
		}
	}
	return x.Pareto != nil && x.Pareto.Config == config
}

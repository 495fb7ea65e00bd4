package main

import (
	"github.com/fusemax/fusemax/lower"
	"github.com/fusemax/fusemax/reproduce"
	"github.com/fusemax/fusemax/specs"
)

// defaultProfile is simulate's energy profile when --energy-profile is not
// given: that of the shipped experiment that evaluates the configuration
// (fusemax-micro24 for the fusemax-micro24/ configs), so that simulate and
// reproduce report the same energy for the same design point; physical for
// every other configuration and for --arch with --mapping.
func defaultProfile(config string) string {
	if config == "" {
		return lower.ProfilePhysical
	}
	for _, name := range specs.Names("experiments") {
		x, err := reproduce.LoadExperiment(name)
		if err != nil {
			continue
		}
		if usesConfig(x, config) {
			return x.Profile
		}
	}
	return lower.ProfilePhysical
}

func usesConfig(x *reproduce.Experiment, config string) bool {
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

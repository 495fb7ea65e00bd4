package lower

import (
	"github.com/fusemax/fusemax/specs"
)

// Config is a configuration spec (specs/configs/...): the (kernel, arch,
// mapping) triple of a design, and the arch overrides it needs.
type Config struct {
	File    string
	Kernel  string
	Arch    string
	Mapping string
	// ArchSet are --set overrides of the arch spec that the configuration
	// always applies (e.g. a global buffer the modelled design sized
	// differently from the machine's).
	ArchSet []string
	// ProfileSet are arch overrides that apply only under one energy
	// accounting profile (Options.EnergyProfile), keyed by its name.
	ProfileSet map[string][]string
}

// LoadConfig reads a configuration spec by path or built-in name.
func LoadConfig(ref string) (*Config, error) {
	file, src, err := specs.Read("configs", ref)
	if err != nil {
		return nil, err
	}
	return ParseConfig(file, src)
}

// ParseConfig is LoadConfig for text already read.
func ParseConfig(file string, src []byte) (*Config, error) {
	d, err := specs.Parse(file, src)
	if err != nil {
		return nil, err
	}
	var errs specs.Errors
	o := d.Obj(d.Root, "config", &errs)
	c := &Config{File: file, Kernel: o.Str("kernel", true), Arch: o.Str("arch", true), Mapping: o.Str("mapping", true),
		ArchSet: o.StrList("set"), ProfileSet: map[string][]string{}}
	ps := o.Sub("profile_set", false)
	for _, k := range ps.Keys() {
		if !knownProfile(k) {
			ps.Failf(ps.KeyNode(k), "config.profile_set: unknown energy profile %q (known: %s, %s)", k, ProfilePhysical, ProfileFuseMaxMicro24)
		}
		c.ProfileSet[k] = ps.StrList(k)
	}
	ps.Done()
	o.Done()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// ArchSets is every arch override the configuration applies under an
// energy profile, the configuration's own first.
func (c *Config) ArchSets(profile string) []string {
	return append(append([]string{}, c.ArchSet...), c.ProfileSet[profile]...)
}

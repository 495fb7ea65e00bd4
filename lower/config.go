package lower

import (
	"strings"

	"github.com/fusemax/fusemax/specs"
)

// Config is a configuration spec (specs/configs/...): the (kernel, arch,
// mapping) triple of a design, and the arch overrides it needs.
type Config struct {
	File string
	// Name is the built-in name (fusemax-micro24/cascade), or the path of a
	// user's file; an accounting profile's configs entries are keyed by it.
	Name    string
	Kernel  string
	Arch    string
	Mapping string
	// ArchSet are --set overrides of the arch spec that the configuration
	// always applies (e.g. a global buffer the modelled design sized
	// differently from the machine's).
	ArchSet []string
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
	c := &Config{File: file, Name: strings.TrimSuffix(strings.TrimPrefix(file, "specs/configs/"), ".yaml"),
		Kernel: o.Str("kernel", true), Arch: o.Str("arch", true), Mapping: o.Str("mapping", true), ArchSet: o.StrList("set")}
	o.Done()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// ArchSets is every arch override the configuration applies under an
// accounting profile: its own, then the profile's for it (an unknown
// profile adds none; Lower reports it).
func (c *Config) ArchSets(profile string) []string {
	sets := append([]string{}, c.ArchSet...)
	if p, err := LoadProfile(profile); err == nil {
		sets = append(sets, p.ConfigSets[c.Name]...)
	}
	return sets
}

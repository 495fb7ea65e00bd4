package lower

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/fusemax/fusemax/specs"
)

// Profile is an accounting profile (specs/profiles/NAME.yaml, named by
// Options.EnergyProfile): how the counted accesses are charged, and the
// adjustments of single configurations and mappings a modelled artifact
// made. Each field is data with its source in the file; `physical`
// charges the hardware as its specs describe it, for latency and energy.
type Profile struct {
	Name, File string
	// PerInstanceRF charges each array one PE's register-file accesses, as
	// Timeloop's per-instance statistics give them (register_files:
	// per_instance); false charges every PE's (every_pe).
	PerInstanceRF bool
	// PartitionWrap adds the global-buffer reads (and the fills below it)
	// Timeloop's wrapped 64-bit partition sizes add on large problems
	// (nest.partitionWrap), for energy only.
	PartitionWrap bool
	// DRAMReadGuard counts an output's DRAM reads only when they differ
	// from its updates, for traffic and energy.
	DRAMReadGuard bool
	// ConfigSets are arch overrides of configurations, by name
	// (Config.ArchSets applies them).
	ConfigSets map[string][]string
	// Drains are per-mapping drains (size expressions) of Einsums, mapping
	// name → Einsum → drain; they replace the mapping's own.
	Drains map[string]map[string]string
}

// The shipped profiles' names.
const (
	ProfilePhysical       = "physical"
	ProfileFuseMaxMicro24 = "fusemax-micro24"
)

// Profiles lists the built-in accounting profiles.
func Profiles() []string { return specs.Names("profiles") }

var builtinProfiles sync.Map // name → *Profile

// LoadProfile reads an accounting profile by built-in name or file path;
// "" is ProfilePhysical. Built-in profiles are read once.
func LoadProfile(ref string) (*Profile, error) {
	if ref == "" {
		ref = ProfilePhysical
	}
	_, statErr := os.Stat(ref) // a user's file of a built-in's name wins
	if p, ok := builtinProfiles.Load(ref); ok && statErr != nil {
		return p.(*Profile), nil
	}
	builtin := statErr != nil && specs.Has("profiles", ref)
	file, src, err := specs.Read("profiles", ref)
	if err != nil {
		return nil, fmt.Errorf("unknown accounting profile: %v", err)
	}
	p, err := ParseProfile(file, src)
	if err == nil && builtin {
		builtinProfiles.Store(ref, p)
	}
	return p, err
}

// ParseProfile is LoadProfile for text already read. Unknown keys,
// configurations and mappings are errors at their file:line:col.
func ParseProfile(file string, src []byte) (*Profile, error) {
	d, err := specs.Parse(file, src)
	if err != nil {
		return nil, err
	}
	var errs specs.Errors
	o := d.Obj(d.Root, "profile", &errs)
	p := &Profile{File: file, Name: o.Str("profile", true), ConfigSets: map[string][]string{}, Drains: map[string]map[string]string{}}
	switch rf := o.Str("register_files", true); rf {
	case "per_instance", "every_pe":
		p.PerInstanceRF = rf == "per_instance"
	case "":
	default:
		o.Failf(o.Get("register_files"), "profile.register_files must be per_instance or every_pe, not %q", rf)
	}
	p.PartitionWrap = o.Bool("partition_wrap", false)
	p.DRAMReadGuard = o.Bool("dram_read_guard", false)
	readConfigSets(o.Sub("configs", false), p)
	readDrains(o.Sub("drains", false), p)
	o.Done()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// readConfigSets reads configs: NAME: {set: [PATH=VALUE, ...]}, each NAME
// a shipped configuration and each override well formed.
func readConfigSets(cs *specs.Obj, p *Profile) {
	for _, name := range cs.Keys() {
		if !specs.Has("configs", name) {
			cs.Failf(cs.KeyNode(name), "profile.configs: no configuration %q (known: %s)", name, strings.Join(specs.Names("configs"), ", "))
		}
		c := cs.Sub(name, true)
		sets := c.StrList("set")
		for _, s := range sets {
			if _, _, err := specs.ParseSet(s); err != nil {
				c.Failf(c.Get("set"), "profile.configs.%s.set: %v", name, err)
			}
		}
		c.Done()
		p.ConfigSets[name] = sets
	}
	cs.Done()
}

// readDrains reads drains: MAPPING: {EINSUM: EXPR}, each MAPPING a shipped
// mapping.
func readDrains(ds *specs.Obj, p *Profile) {
	for _, name := range ds.Keys() {
		if !specs.Has("mapping", name) {
			ds.Failf(ds.KeyNode(name), "profile.drains: no mapping %q (known: %s)", name, strings.Join(specs.Names("mapping"), ", "))
		}
		m := ds.Sub(name, true)
		p.Drains[name] = map[string]string{}
		for _, e := range m.Keys() {
			p.Drains[name][e] = m.Str(e, true)
		}
		m.Done()
	}
	ds.Done()
}

// drainOf is the drain Einsum einsum has under mapping m: the profile's,
// else the mapping entry's.
func (pr *Profile) drainOf(m *Mapping, em *EinsumMap, einsum string) string {
	if d, ok := pr.Drains[m.Name][einsum]; ok {
		return d
	}
	return em.Drain
}

// checkDrains warns of a profile drain for an Einsum the cascade does not
// run (a profile entry is never silently ignored).
func (lw *lowering) checkDrains() {
	named := map[string]bool{}
	for _, p := range lw.ops {
		named[p.e.Name()] = true
	}
	ds := lw.prof.Drains[lw.m.Name]
	names := make([]string, 0, len(ds))
	for e := range ds {
		names = append(names, e)
	}
	sort.Strings(names)
	for _, e := range names {
		if !named[e] {
			lw.warn("%s: drains.%s.%s: cascade %s has no Einsum %s that does work; ignored", lw.prof.File, lw.m.Name, e, lw.c.Name, e)
		}
	}
}

// charged is what the profile charges of one access's counts: global-buffer
// (nest level gb) reads and writes (updates and fills), register-file
// (level rf) reads and writes.
func (pr *Profile) charged(c counts, gb, rf int) (gr, gw, rr, rw float64) {
	gr, gw = c.Reads[gb], c.Updates[gb]+c.Fills[gb]
	rr, rw = c.Reads[rf], c.Updates[rf]+c.Fills[rf]
	if pr.PerInstanceRF {
		rr, rw = c.PerInst[rf].Reads, c.PerInst[rf].Updates+c.PerInst[rf].Fills
	}
	if pr.PartitionWrap {
		gr, gw = gr+c.Wrap[gb].Reads, gw+c.Wrap[gb].Fills
		if pr.PerInstanceRF {
			rr, rw = rr+c.PerInstWrap[rf].Reads, rw+c.PerInstWrap[rf].Fills
		} else {
			rr, rw = rr+c.Wrap[rf].Reads, rw+c.Wrap[rf].Fills
		}
	}
	return gr, gw, rr, rw
}

// dramRead is the DRAM reads the profile counts for an access with counts c.
func (pr *Profile) dramRead(c counts, output bool) float64 {
	if output && pr.DRAMReadGuard && c.Reads[levelDRAM] == c.Updates[levelDRAM] {
		return 0
	}
	return c.Reads[levelDRAM]
}

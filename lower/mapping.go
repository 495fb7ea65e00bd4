package lower

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/fusemax/fusemax/specs"
)

// Mapping is a mapping/binding spec: how a cascade's Einsums are bound to
// units, tiled and scheduled.
type Mapping struct {
	File      string
	Name      string
	Kernel    string   // the kernel it was written for (informational)
	Instances []string // ranks the cascade does not name, run as independent copies
	Sizes     map[string]string
	Tile      map[string]string // rank → expression for the extent one group covers
	TileOrder []string          // the tiled ranks in file order: their group loops, outer first
	Derive    []Derived
	Offchip   []string // nil: the cascade's inputs and outputs
	Onchip    []string
	Spill     float64
	// SpillAt is the global-buffer capacity Spill was measured at (0:
	// none given): at another capacity the share moves by the bytes the
	// buffer gains or loses over the state the mapping keeps, so a
	// capacity override changes the spill traffic.
	SpillAt   float64
	Buffers   int
	Prefetch  int
	Writeback int
	Stages    map[string]int
	// Phases runs the Einsums phase by phase (Einsum → phase, in increasing
	// order): each phase over all groups before the next starts, as an
	// unfused kernel does; Einsums of one phase pipeline within it.
	Phases map[string]int
	// OneAtATime runs the iterate loop's iterations one at a time: no unit
	// starts iteration i+1 before every unit has finished iteration i
	// (`iterations: one-at-a-time`; the default, `pipelined`, lets a unit
	// run ahead as far as its dependencies and buffers allow).
	OneAtATime bool
	// Stationarity picks an entry of Orders; an Einsum with an order gets
	// the stationary nest of MODEL.md §6.1.
	Stationarity string
	Orders       map[string]map[string][]string
	Units        map[string]Nest
	Einsums      map[string]*EinsumMap
	// Classes binds by operation class (ClassMatmul, ...) the Einsums
	// that have no entry of their own, and Default binds the rest.
	Classes map[string]string
	Default string
	Variant string // which variant was applied, for the report
	// Derived marks a mapping DeriveMapping wrote (no user mapping).
	Derived bool
	// Search lists the values a mapping search tries (Simulate).
	Search []SearchAxis
	// Levels places tensors' tiles and outer loops at memory levels between
	// DRAM and the global buffer (levels.go), by level name.
	Levels map[string]*LevelMap

	doc         *specs.Doc
	classNodes  map[string]*yaml.Node
	defaultNode *yaml.Node
	// spots is where the values the lowering evaluates are written
	// ("tile.P", "sizes.M0", "derive.P1", "derive.P1.fits",
	// "instances.B", "einsums.QK.drain", "phases"), so that a value
	// rejected only once it meets the cascade and the machine is reported
	// at its line.
	spots *specs.Spots
}

// Derived is a mapping value the lowering computes: the largest divisor of
// DivisorOf whose global-buffer state fits the level Fits.
type Derived struct {
	Name      string
	DivisorOf string
	Fits      string
}

// Nest gives an Einsum's loops inside one group: DRAM-level temporal loops
// (a group's rows taken one at a time), spatial ranks (columns, then rows
// of a 2D array) and the global-buffer temporal loops, outer first.
type Nest struct {
	DRAM    []string
	Spatial []string
	L3      []string
}

// EinsumMap binds one Einsum.
type EinsumMap struct {
	Unit      string
	Nest      Nest
	Keep      []string // tensors this Einsum passes through the global buffer even when they live off chip
	Staged    []string // off-chip tensors this Einsum reads from an on-chip copy an earlier pass made
	Registers []string // tensors it takes straight from the producer's registers
	// Drain is a size expression: how many of its own durations the
	// operation's result takes, after its last issue cycle, to be visible to
	// dependents (an unpipelined reduction across the array); "" is none.
	Drain string
	node  *yaml.Node
}

// Pos is where an Einsum's binding is written, for messages.
func (m *Mapping) Pos(einsum string) string {
	if e, ok := m.Einsums[einsum]; ok && e.node != nil {
		return fmt.Sprintf("%s:%d:%d", m.File, e.node.Line, e.node.Column)
	}
	return m.File
}

// PosOf is where a binding is written (an Einsum's entry, its class's or
// the default), for messages.
func (m *Mapping) PosOf(em *EinsumMap) string {
	if em != nil && em.node != nil {
		return fmt.Sprintf("%s:%d:%d", m.File, em.node.Line, em.node.Column)
	}
	return m.File
}

// LoadMapping reads a mapping spec by path or built-in name. The variant
// whose `when` sizes are nearest to shape is applied first, then the --set
// overrides.
func LoadMapping(ref string, shape map[string]int64, sets []string) (*Mapping, error) {
	file, src, err := specs.Read("mapping", ref)
	if err != nil {
		return nil, err
	}
	return ParseMapping(file, src, shape, sets)
}

// ParseMapping is LoadMapping for text already read.
func ParseMapping(file string, src []byte, shape map[string]int64, sets []string) (*Mapping, error) {
	d, err := specs.Parse(file, src)
	if err != nil {
		return nil, err
	}
	variant, err := applyVariant(d, shape)
	if err != nil {
		return nil, err
	}
	for _, s := range sets {
		if err := d.Set(s); err != nil {
			return nil, err
		}
	}
	search, err := takeSearch(d)
	if err != nil {
		return nil, err
	}
	m, err := decodeMapping(d)
	if err != nil {
		return nil, err
	}
	m.Variant = variant
	m.Search = search
	return m, nil
}

// takeTop removes a top-level section from a mapping document and returns
// it (nil if absent): sections that select or vary mappings rather than
// describe one.
func takeTop(d *specs.Doc, key string) *yaml.Node {
	for i := 0; i+1 < len(d.Root.Content); i += 2 {
		if d.Root.Content[i].Value == key {
			n := d.Root.Content[i+1]
			d.Root.Content = append(d.Root.Content[:i:i], d.Root.Content[i+2:]...)
			return n
		}
	}
	return nil
}

// applyVariant picks the variant nearest to shape (sum of |log2| distances
// over its `when` sizes; the first on a tie) and applies its `set` entries.
func applyVariant(d *specs.Doc, shape map[string]int64) (string, error) {
	list := takeTop(d, "variants")
	if list == nil {
		return "", nil
	}
	var errs specs.Errors
	if list.Kind != yaml.SequenceNode {
		return "", d.Errorf(list, "variants must be a list")
	}
	best, bestDist, exact := -1, math.Inf(1), false
	var bestDesc string
	for i, v := range list.Content {
		o := d.Obj(v, fmt.Sprintf("variants[%d]", i), &errs)
		w := o.Sub("when", true)
		o.Sub("set", true)
		o.Done()
		dist := 0.0
		var desc []string
		for _, k := range w.Keys() {
			want := w.Num(k, specs.Count, true, 1)
			got, ok := shape[k]
			if !ok {
				dist = math.Inf(1)
				continue
			}
			desc = append(desc, fmt.Sprintf("%s=%g", k, want))
			dist += math.Abs(math.Log2(float64(got)) - math.Log2(want))
		}
		if dist < bestDist {
			best, bestDist, exact, bestDesc = i, dist, dist == 0, strings.Join(desc, ",")
		}
	}
	if err := errs.Err(); err != nil {
		return "", err
	}
	if best < 0 {
		return "", d.Errorf(list, "no variant applies: the shape lacks the sizes the variants are keyed by")
	}
	o := d.Obj(list.Content[best], "variant", &errs)
	set := o.Get("set")
	if set.Kind != yaml.MappingNode {
		return "", d.Errorf(set, "variants[%d].set must be a mapping of spec paths to values", best)
	}
	for i := 0; i+1 < len(set.Content); i += 2 {
		if err := d.Replace(strings.Split(set.Content[i].Value, "."), set.Content[i+1]); err != nil {
			return "", d.Errorf(set.Content[i], "%v", err)
		}
	}
	if exact {
		return bestDesc, nil
	}
	return bestDesc + " (nearest)", nil
}

func decodeMapping(d *specs.Doc) (*Mapping, error) {
	var errs specs.Errors
	o := d.Obj(d.Root, "mapping", &errs)
	m := &Mapping{File: d.File, doc: d, Sizes: map[string]string{}, Tile: map[string]string{},
		Stages: map[string]int{}, Phases: map[string]int{}, Orders: map[string]map[string][]string{}, Units: map[string]Nest{}, Einsums: map[string]*EinsumMap{},
		spots: d.Spots()}
	m.Name = o.Str("name", true)
	m.Kernel = o.Str("kernel", false)
	m.Instances = o.StrList("instances")
	if n := o.Get("instances"); n != nil && len(n.Content) == len(m.Instances) {
		for i, r := range m.Instances {
			m.spots.NoteNode("instances."+r, n.Content[i])
		}
	}
	m.note("phases", o, "phases")
	readMap := func(key string, into map[string]string) {
		s := o.Sub(key, false)
		for _, k := range s.Keys() {
			into[k] = s.Str(k, true)
			m.note(key+"."+k, s, k)
		}
		s.Done()
	}
	readMap("sizes", m.Sizes)
	readMap("tile", m.Tile)
	m.TileOrder = o.Sub("tile", false).Keys()
	m.note("tile", o, "tile")
	der := o.Sub("derive", false)
	for _, k := range der.Keys() {
		x := der.Sub(k, true)
		m.Derive = append(m.Derive, Derived{Name: k, DivisorOf: x.Str("divisor_of", true), Fits: x.Str("fits", true)})
		m.note("derive."+k, der, k)
		m.note("derive."+k+".divisor_of", x, "divisor_of")
		m.note("derive."+k+".fits", x, "fits")
		x.Done()
	}
	der.Done()
	readPlacement(o, m)
	readLevels(o.Sub("levels", false), m)
	if pl := o.Sub("placement", false); pl.Node != nil {
		// onchip and offchip together, so that a search can vary them as
		// one choice (a tensor taken off the global buffer must go
		// somewhere).
		if o.Get("onchip") != nil || o.Get("offchip") != nil {
			o.Failf(o.KeyNode("placement"), "mapping.placement gives onchip and offchip; do not also give them at the top level")
		}
		readPlacement(pl, m)
		pl.Done()
	}
	m.Spill = o.Num("spill", specs.Count, false, 0)
	m.SpillAt = o.Num("spill_at", specs.Bytes, false, 1)
	if m.Spill >= 1 {
		o.Failf(o.Get("spill"), "mapping.spill is a fraction of accesses and must be below 1")
	}
	m.Buffers = boundedInt(o, "mapping.buffers", "buffers", 1, maxPipelineDepth, 2)
	m.Prefetch = boundedInt(o, "mapping.prefetch", "prefetch", 0, maxPipelineDepth, 0)
	m.Writeback = boundedInt(o, "mapping.writeback", "writeback", 0, maxPipelineDepth, 0)
	switch it := o.Str("iterations", false); it {
	case "", "pipelined":
	case "one-at-a-time":
		m.OneAtATime = true
	default:
		o.Failf(o.Get("iterations"), "mapping.iterations must be pipelined or one-at-a-time, not %q", it)
	}
	st := o.Sub("stages", false)
	for _, k := range st.Keys() {
		m.Stages[k] = boundedInt(st, "mapping.stages."+k, k, 0, maxPipelineDepth, 0)
		m.note("stages."+k, st, k)
	}
	st.Done()
	ph := o.Sub("phases", false)
	for _, k := range ph.Keys() {
		m.Phases[k] = boundedInt(ph, "mapping.phases."+k, k, 0, maxPhases, 0)
		m.note("phases."+k, ph, k)
	}
	ph.Done()
	m.Stationarity = o.Str("stationarity", false)
	ord := o.Sub("orders", false)
	for _, k := range ord.Keys() {
		x := ord.Sub(k, true)
		m.Orders[k] = map[string][]string{}
		for _, e := range x.Keys() {
			m.Orders[k][e] = x.StrList(e)
		}
		x.Done()
	}
	ord.Done()
	if m.Stationarity != "" {
		if _, ok := m.Orders[m.Stationarity]; !ok {
			o.Failf(o.Get("stationarity"), "mapping.stationarity %q is not one of the orders (%s)", m.Stationarity, strings.Join(sortedKeys(m.Orders), ", "))
		}
	}
	un := o.Sub("units", false)
	for _, k := range un.Keys() {
		x := un.Sub(k, true)
		m.Units[k] = Nest{DRAM: x.StrList("dram"), Spatial: x.StrList("spatial"), L3: x.StrList("l3")}
		x.Done()
	}
	un.Done()
	cl := o.Sub("classes", false)
	m.Classes, m.classNodes = map[string]string{}, map[string]*yaml.Node{}
	for _, k := range cl.Keys() {
		if !slices.Contains(Classes(), k) {
			cl.Failf(cl.KeyNode(k), "mapping.classes: unknown operation class %q (known: %s)", k, strings.Join(Classes(), ", "))
		}
		m.Classes[k] = cl.Str(k, true)
		m.classNodes[k] = cl.KeyNode(k)
	}
	cl.Done()
	m.Default = o.Str("default", false)
	m.defaultNode = o.Get("default")
	m.note("einsums", o, "einsums")
	es := o.Sub("einsums", !m.bindsGenerally())
	for _, k := range es.Keys() {
		n := es.Get(k)
		em := &EinsumMap{node: es.KeyNode(k)}
		if n != nil && n.Kind == yaml.ScalarNode {
			em.Unit = n.Value
		} else {
			x := es.Sub(k, true)
			em.Unit = x.Str("unit", true)
			em.Nest = Nest{DRAM: x.StrList("dram"), Spatial: x.StrList("spatial"), L3: x.StrList("l3")}
			em.Keep = x.StrList("keep")
			em.Staged = x.StrList("staged")
			em.Registers = x.StrList("registers")
			em.Drain = x.Str("drain", false)
			m.note("einsums."+k+".drain", x, "drain")
			x.Done()
		}
		m.Einsums[k] = em
	}
	es.Done()
	o.Done()
	return m, errs.Err()
}

func (m *Mapping) note(path string, o *specs.Obj, key string) { m.spots.Note(path, o, key) }

// errorAt is a positioned error about the mapping value at path (a key of
// spots): at the value, or at its key with atKey.
func (m *Mapping) errorAt(path string, atKey bool, format string, args ...any) error {
	return m.spots.Errorf(path, atKey, format, args...)
}

// exprError is errorAt for a size expression's error: a sizeError points
// at the column of what is wrong inside the value.
func (m *Mapping) exprError(path string, err error) error {
	pe := m.spots.Errorf(path, false, "%s: %v", path, err)
	var se *sizeError
	n := m.spots.Value(path)
	if !errors.As(err, &se) || n == nil || pe.Line == 0 || n.Kind != yaml.ScalarNode || strings.Contains(n.Value, "\n") {
		return pe
	}
	switch n.Style {
	case 0:
		pe.Col += se.Off
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		pe.Col += se.Off + 1
	}
	return pe
}

// Bounds on the mapping numbers that size the simulator's state: a
// buffer, prefetch, write-back or stage distance of d keeps d iterations of
// completion times per operation, and every phase is a loop over all
// groups. Real pipelines are a few iterations deep; anything beyond these
// is a typo, rejected before any work proportional to it.
const (
	maxPipelineDepth = 64
	maxPhases        = 64
	// maxDrain bounds einsums.X.drain, in the operation's own durations:
	// an unpipelined reduction across an array drains in about its rows
	// (fusemax-arch: M0 = 256); far beyond, the latency is a typo's.
	maxDrain = 1 << 16
)

// readPlacement reads the onchip and offchip lists of o.
func readPlacement(o *specs.Obj, m *Mapping) {
	if o.Get("offchip") != nil {
		m.Offchip = o.StrList("offchip")
		if m.Offchip == nil {
			m.Offchip = []string{}
		}
		m.noteList("offchip", o.Get("offchip"))
	}
	if o.Get("onchip") != nil {
		m.Onchip = o.StrList("onchip")
		m.noteList("onchip", o.Get("onchip"))
	}
}

// noteList records where each name of list key is written, as key.NAME.
func (m *Mapping) noteList(key string, list *yaml.Node) {
	if list == nil || list.Kind != yaml.SequenceNode {
		return
	}
	for _, n := range list.Content {
		m.spots.NoteNode(key+"."+n.Value, n)
	}
}

// boundedInt reads an optional whole number in [lo, hi] (def when absent),
// reporting one outside at its position; what names it in messages.
func boundedInt(o *specs.Obj, what, key string, lo, hi, def int64) int {
	n := o.Get(key)
	if n == nil {
		return int(def)
	}
	v := o.Num(key, specs.Count, false, float64(lo))
	switch {
	case v > float64(hi):
		o.Failf(n, "%s = %s is more than %d (no real pipeline is this deep)", what, n.Value, hi)
	case v != math.Trunc(v):
		o.Failf(n, "%s must be a whole number", what)
	case v >= float64(lo):
		return int(v)
	}
	return int(def)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// readSpec reads a built-in mapping (tests and fuzz seeds).
func readSpec(name string) (string, []byte, error) { return specs.Read("mapping", name) }

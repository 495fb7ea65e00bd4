package arch

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/specs"
)

// Spec is a machine described as data.
type Spec struct {
	File      string
	Name      string
	ClockHz   float64
	WordBytes float64
	Memories  []*Memory // outermost (DRAM) first
	Arrays    []*Array  // in spec order
	GPU       *GPU      // set for a `kind: gpu` spec (gpu.go), whose Memories and Arrays are empty
}

// Memory is one storage level. The outermost level is off chip: it has a
// bandwidth and no capacity limit; the others are on-chip buffers.
type Memory struct {
	Name          string
	CapacityBytes float64 // 0: unbounded (off chip)
	Bandwidth     float64 // bytes per second; on chip optional (0: not a bottleneck)
	WidthBytes    float64 // bytes moved by one access
	Banks         int64
	ReadPJ        float64 // per access
	WritePJ       float64
	AreaUM2       float64
	// CapacityAt is where the capacity is written (file:line:col or the
	// --set flag), for a message that asks for more of it.
	CapacityAt string
}

// Array is a compute unit: Dims is {rows, cols} for a 2D array and
// {length} for a 1D one.
type Array struct {
	Name string
	Dims []int64
	PE   PE
}

// PEs is the number of processing elements.
func (a *Array) PEs() int64 {
	n := int64(1)
	for _, d := range a.Dims {
		n *= d
	}
	return n
}

// PE is one processing element.
type PE struct {
	// Parallel means the PE's functional units are pipelined and work on
	// different operations of a point at once, so a point costs the busiest
	// unit's cycles; serial PEs run one operation at a time and a point costs
	// the sum.
	Parallel bool
	RegFile  RegFile
	Ops      map[string]*Op
	// Derived says how an operation the PE lacks is built from ones it has
	// (exp from 6 MACs): name → primitive → count.
	Derived map[string]map[string]int64
}

// RegFile is a PE's register file.
type RegFile struct {
	Depth   int64
	ReadPJ  float64
	WritePJ float64
	AreaUM2 float64
}

// Op is a functional unit of a PE.
type Op struct {
	Cycles   float64
	EnergyPJ float64
	AreaUM2  float64
}

// Memory returns the level with the given name.
func (s *Spec) Memory(name string) *Memory {
	for _, m := range s.Memories {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// Array returns the array with the given name.
func (s *Spec) Array(name string) *Array {
	for _, a := range s.Arrays {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// Expand turns one operation into primitive functional-unit operations,
// following Derived. ok is false when the PE can neither run op nor build it.
func (p *PE) Expand(op string) (map[string]int64, bool) {
	return p.expand(op, 0)
}

func (p *PE) expand(op string, depth int) (map[string]int64, bool) {
	if _, ok := p.Ops[op]; ok {
		return map[string]int64{op: 1}, true
	}
	d, ok := p.Derived[op]
	if !ok || depth > 8 {
		return nil, false
	}
	out := map[string]int64{}
	for sub, n := range d {
		e, ok := p.expand(sub, depth+1)
		if !ok {
			return nil, false
		}
		for k, v := range e {
			out[k] += n * v
		}
	}
	return out, true
}

// Cycles is the time one point costs given its primitive operation counts.
func (p *PE) Cycles(prims map[string]float64) float64 {
	var sum, max float64
	for op, n := range prims {
		c := n * p.Ops[op].Cycles
		sum += c
		if c > max {
			max = c
		}
	}
	if p.Parallel {
		return max
	}
	return sum
}

// Capabilities lists what the PE can do, built-in and derived, sorted.
func (p *PE) Capabilities() []string {
	var out []string
	for k := range p.Ops {
		out = append(out, k)
	}
	for k := range p.Derived {
		if _, ok := p.Expand(k); ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Area sums the spec's component areas: every memory level, and every PE's
// register file and functional units times the number of PEs. The parts are
// keyed "memory/L3", "2d/pe" and so on.
func (s *Spec) Area() (total float64, parts map[string]float64) {
	parts = map[string]float64{}
	for _, m := range s.Memories {
		parts["memory/"+m.Name] = m.AreaUM2
	}
	for _, a := range s.Arrays {
		pe := a.PE.RegFile.AreaUM2
		// In name order: float sums depend on it, and the output must not.
		for _, name := range slices.Sorted(maps.Keys(a.PE.Ops)) {
			pe += a.PE.Ops[name].AreaUM2
		}
		parts[a.Name+"/pe"] = float64(a.PEs()) * pe
	}
	keys := make([]string, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		total += parts[k]
	}
	return total, parts
}

// Load reads an architecture spec by file path or built-in name, applies
// the --set overrides in order, and validates it.
func Load(ref string, sets []string) (*Spec, error) {
	file, src, err := specs.Read("arch", ref)
	if err != nil {
		return nil, err
	}
	return Parse(file, src, sets)
}

// Parse is Load for text already read.
func Parse(file string, src []byte, sets []string) (*Spec, error) {
	d, err := specs.ParseWithSets(file, src, sets)
	if err != nil {
		return nil, err
	}
	return Decode(d)
}

// Decode validates a parsed spec document.
func Decode(d *specs.Doc) (*Spec, error) {
	if isGPU(d) {
		return decodeGPU(d)
	}
	var errs specs.Errors
	top := d.Obj(d.Root, "arch", &errs)
	s := &Spec{File: d.File}
	s.Name = top.Str("name", true)
	s.ClockHz = top.Num("clock", specs.Frequency, true, 1)
	s.WordBytes = top.Num("word", specs.Bytes, true, 0.125)

	mem := top.Sub("memory", true)
	for i, name := range mem.Keys() {
		m := mem.Sub(name, true)
		lv := &Memory{Name: name}
		if i == 0 {
			lv.Bandwidth = m.Num("bandwidth", specs.Bandwidth, true, 1)
		} else {
			lv.CapacityBytes = m.Num("capacity", specs.Bytes, true, 1)
			lv.CapacityAt = d.Pos(m.Get("capacity"))
			lv.Banks = m.Int("banks", false, 1)
			lv.Bandwidth = m.Num("bandwidth", specs.Bandwidth, false, 0)
		}
		lv.WidthBytes = m.Num("width", specs.Bytes, true, 0.125)
		lv.ReadPJ = m.Num("read_energy", specs.Energy, true, 0)
		lv.WritePJ = m.Num("write_energy", specs.Energy, true, 0)
		lv.AreaUM2 = m.Num("area", specs.Area, false, 0)
		m.Done()
		s.Memories = append(s.Memories, lv)
	}
	if mem.Node != nil && len(s.Memories) < 2 {
		mem.Failf(nil, "arch.memory needs an off-chip level and at least one on-chip buffer, outermost first")
	}

	arr := top.Sub("arrays", true)
	for _, name := range arr.Keys() {
		a := arr.Sub(name, true)
		u := &Array{Name: name}
		if a.Node != nil && a.KeyNode("length") != nil {
			u.Dims = []int64{a.Int("length", true, 1)}
		} else {
			u.Dims = []int64{a.Int("rows", true, 1), a.Int("cols", true, 1)}
		}
		u.PE = decodePE(a.Sub("pe", true), &errs)
		a.Done()
		s.Arrays = append(s.Arrays, u)
	}
	if arr.Node != nil && len(s.Arrays) == 0 {
		arr.Failf(nil, "arch.arrays lists no compute array")
	}
	top.Done()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func decodePE(o *specs.Obj, errs *specs.Errors) PE {
	pe := PE{Ops: map[string]*Op{}, Derived: map[string]map[string]int64{}}
	switch iss := o.Str("issue", false); iss {
	case "", "serial":
	case "parallel":
		pe.Parallel = true
	default:
		o.Failf(o.Get("issue"), "%s.issue must be serial or parallel, not %q", "pe", iss)
	}
	rf := o.Sub("register_file", false)
	pe.RegFile = RegFile{
		Depth:   rf.Int("depth", rf.Node != nil, 1),
		ReadPJ:  rf.Num("read_energy", specs.Energy, rf.Node != nil, 0),
		WritePJ: rf.Num("write_energy", specs.Energy, rf.Node != nil, 0),
		AreaUM2: rf.Num("area", specs.Area, false, 0),
	}
	rf.Done()
	ops := o.Sub("ops", true)
	for _, name := range ops.Keys() {
		op := ops.Sub(name, true)
		pe.Ops[name] = &Op{
			Cycles:   op.Num("cycles", specs.Count, true, 0),
			EnergyPJ: op.Num("energy", specs.Energy, true, 0),
			AreaUM2:  op.Num("area", specs.Area, false, 0),
		}
		op.Done()
	}
	if ops.Node != nil && len(pe.Ops) == 0 {
		ops.Failf(nil, "a PE needs at least one operation")
	}
	der := o.Sub("derived", false)
	for _, name := range der.Keys() {
		dn := der.Sub(name, true)
		m := map[string]int64{}
		for _, prim := range dn.Keys() {
			m[prim] = dn.Int(prim, true, 1)
		}
		dn.Done()
		pe.Derived[name] = m
		if _, ok := pe.Ops[name]; ok {
			der.Failf(der.KeyNode(name), "operation %q is both built in and derived", name)
		}
	}
	der.Done()
	for _, name := range der.Keys() {
		if _, ok := pe.Expand(name); !ok {
			var have []string
			for k := range pe.Ops {
				have = append(have, k)
			}
			sort.Strings(have)
			der.Failf(der.KeyNode(name), "derived operation %q cannot be built from this PE's operations (%s)", name, strings.Join(have, ", "))
		}
	}
	o.Done()
	return pe
}

// Describe prints a one-line summary, for reports.
func (s *Spec) Describe() string {
	if s.GPU != nil {
		return s.GPU.describe(s.Name)
	}
	var parts []string
	for _, a := range s.Arrays {
		d := make([]string, len(a.Dims))
		for i, x := range a.Dims {
			d[i] = fmt.Sprint(x)
		}
		parts = append(parts, a.Name+" "+strings.Join(d, "×"))
	}
	for _, m := range s.Memories[1:] {
		parts = append(parts, fmt.Sprintf("%s %.0f MiB", m.Name, m.CapacityBytes/(1<<20)))
	}
	return s.Name + ": " + strings.Join(parts, ", ")
}

package review

// This file is the package's only contact with the rest of the toolchain:
// it resolves a Design to a cascade, an architecture spec and a mapping,
// runs lower.Simulate (the path `fusemax simulate` takes) and turns the
// report into Metrics. When the lowering's API changes, only this file
// changes.

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/einsum/passes"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/lower"
	"github.com/fusemax/fusemax/lower/gpu"
	"github.com/fusemax/fusemax/sim"
	"github.com/fusemax/fusemax/specs"
	"github.com/fusemax/fusemax/workload"
)

// Profiles are the energy accounting profiles a review may name.
func Profiles() []string { return lower.Profiles() }

// DefaultProfile is the energy accounting used when a review names none.
const DefaultProfile = lower.ProfilePhysical

// Configs lists the shipped (kernel, arch, mapping) configurations.
func Configs() []string { return specs.Names("configs") }

// Evaluator evaluates design points. It caches parsed cascades and
// configurations, so one Evaluator should serve a whole review or sweep;
// it is safe for concurrent use.
type Evaluator struct {
	mu       sync.Mutex
	kernels  map[string]*kernelInfo
	configs  map[string]*lower.Config
	mappings map[string][]string // kernel name → shipped mappings written for it
	// archs holds loaded specs by reference and overrides: a sweep's points
	// share a few, and parsing one costs as much as lowering a design.
	archs map[string]*arch.Spec
	// maps holds parsed mappings by reference, overrides and shape (a
	// mapping's variant depends on the shape); not those with a search,
	// whose document lower.Simulate rewrites.
	maps map[string]*lower.Mapping
}

// maxCachedArchs bounds each spec cache; beyond it specs are loaded per point.
const maxCachedArchs = 4096

type kernelInfo struct {
	cascade *einsum.Cascade
	passes  int
}

// NewEvaluator returns an empty Evaluator.
func NewEvaluator() *Evaluator {
	return &Evaluator{kernels: map[string]*kernelInfo{}, configs: map[string]*lower.Config{}, mappings: map[string][]string{}, archs: map[string]*arch.Spec{}, maps: map[string]*lower.Mapping{}}
}

// target is a design resolved to the references the lowering loads.
type target struct {
	kernel   *kernelInfo
	arch     string
	archSets []string
	mappings []string // one, or the candidates a mapping choice tries
	chosen   bool     // mappings were chosen here, not named
	derived  bool     // no mapping named: lower.DeriveMapping writes one
	fallback string   // why the derived mapping gave way to the shipped ones
	mapSets  []string
}

// Shipped is the mapping a design names to try every shipped mapping
// written for its kernel and keep the least energy × delay.
const Shipped = "shipped"

// Evaluate simulates design d on case c under an energy profile.
func (e *Evaluator) Evaluate(d *Design, c Case, profile string) (*Metrics, error) {
	shape := c.Shape
	t, err := e.resolve(d, shape, profile)
	if err != nil {
		return nil, err
	}
	a, err := e.arch(t.arch, t.archSets)
	if err != nil {
		return nil, err
	}
	if a.GPU != nil {
		return e.evaluateGPU(d, t, a, shape)
	}
	if t.derived {
		m, err := e.evaluateDerived(t, a, c, profile)
		if err == nil {
			return m, nil
		}
		// The derivation's search may find nothing that fits (a 3-pass
		// cascade at 64K); the shipped mappings written for the kernel
		// are the fallback, and the note says why.
		if t.mappings = e.mappingsFor(t.kernel.cascade.Name, shape); len(t.mappings) == 0 {
			return nil, err
		}
		t.chosen, t.fallback = true, "the derived mapping does not run ("+firstLine(err.Error())+")"
	}
	var best *lower.Report
	var firstErr error
	for _, ref := range t.mappings {
		rep, err := e.simulate(t, a, ref, shape, profile)
		switch {
		case err != nil:
			if firstErr == nil {
				firstErr = err
			}
		case best == nil || rep.EnergyPJ*rep.LatencyS < best.EnergyPJ*best.LatencyS:
			best = rep
		}
	}
	if best == nil {
		if t.chosen {
			return nil, fmt.Errorf("no shipped mapping for %s runs on %s (tried %s): %v", d.Kernel, t.arch, strings.Join(t.mappings, ", "), firstErr)
		}
		return nil, firstErr
	}
	m := metrics(best, a, t.kernel.passes)
	if t.chosen {
		m.MappingNote = appendNote(m.MappingNote, "least energy×delay of "+strings.Join(t.mappings, ", "))
	}
	if t.fallback != "" {
		m.MappingNote = appendNote(t.fallback, m.MappingNote)
	}
	return m, nil
}

func (e *Evaluator) simulate(t *target, a *arch.Spec, ref string, shape map[string]int64, profile string) (*lower.Report, error) {
	m, err := e.mapping(ref, shape, t.mapSets)
	if err != nil {
		return nil, err
	}
	return lower.Simulate(t.kernel.cascade, a, m, shape, lower.Options{EnergyProfile: profile}, sim.Options{})
}

// resolve fills in what a configuration names and splits the overrides.
func (e *Evaluator) resolve(d *Design, shape map[string]int64, profile string) (*target, error) {
	kernel, archRef, mapping := d.Kernel, d.Arch, d.Mapping
	t := &target{}
	if d.Config != "" {
		c, err := e.config(d.Config)
		if err != nil {
			return nil, err
		}
		kernel = cmp(kernel, c.Kernel)
		if archRef == "" {
			archRef = c.Arch
			t.archSets = c.ArchSets(profile)
		}
		mapping = cmp(mapping, c.Mapping)
	}
	if kernel == "" || archRef == "" {
		return nil, fmt.Errorf("design %s: name a kernel and an arch, or a config (one of %s)", d.Label, strings.Join(Configs(), ", "))
	}
	k, err := e.kernel(kernel, d.Cascade)
	if err != nil {
		return nil, err
	}
	t.kernel, t.arch = k, archRef
	for _, s := range d.Set {
		if v, ok := strings.CutPrefix(s, "arch."); ok {
			t.archSets = append(t.archSets, v)
		} else if v, ok := strings.CutPrefix(s, "mapping."); ok {
			t.mapSets = append(t.mapSets, v)
		} else {
			return nil, fmt.Errorf("design %s: set %q: say which spec, arch.PATH=VALUE or mapping.PATH=VALUE", d.Label, s)
		}
	}
	gpuArch := false
	if a, err := e.arch(archRef, t.archSets); err == nil && a.GPU != nil {
		gpuArch = true
	}
	switch {
	case mapping != "" && mapping != Shipped:
		t.mappings = []string{mapping}
	case gpuArch:
		t.mappings, t.chosen = gpuMappings(), true
	case mapping == Shipped:
		t.mappings, t.chosen = e.mappingsFor(k.cascade.Name, shape), true
		if len(t.mappings) == 0 {
			return nil, fmt.Errorf("design %s: mapping: shipped, and no shipped mapping is written for %s (shipped: %s)", d.Label, k.cascade.Name, strings.Join(specs.Names("mapping"), ", "))
		}
	case len(t.mapSets) > 0:
		return nil, fmt.Errorf("design %s: set mapping.PATH needs a mapping; without one the mapping is derived (fusemax simulate --emit-mapping FILE saves it to edit and name)", d.Label)
	default:
		t.derived = true
	}
	return t, nil
}

// evaluateDerived runs a design that names no mapping the way `fusemax
// simulate` does without --mapping: lower.DeriveMapping binds every
// Einsum by cost and lower.Simulate searches its group sizes and
// placement for the least energy × delay. A workload's D and S size its
// linear layers, not attention: unless the cascade names them they are
// left out, or the derived mapping would count them as instances (B and H
// are the workload's instances).
func (e *Evaluator) evaluateDerived(t *target, a *arch.Spec, cs Case, profile string) (*Metrics, error) {
	c, shape := t.kernel.cascade, cs.Shape
	if cs.Workload != "" {
		shape = workload.ForCascade(shape, func(k string) bool { return c.Rank(k) != nil })
	}
	m, _, err := lower.DeriveMapping(c, a, shape)
	if err != nil {
		return nil, err
	}
	rep, err := lower.Simulate(c, a, m, shape, lower.Options{EnergyProfile: profile}, sim.Options{})
	if err != nil {
		return nil, err
	}
	out := metrics(rep, a, t.kernel.passes)
	out.Derived = true
	out.MappingNote = appendNote("no mapping named: bound by cost, as fusemax simulate does without --mapping", out.MappingNote)
	return out, nil
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// arch loads a spec once per (reference, overrides); lowering and
// simulation only read it, so points share it.
func (e *Evaluator) arch(ref string, sets []string) (*arch.Spec, error) {
	key := ref + "\x00" + strings.Join(sets, "\x00")
	e.mu.Lock()
	a, ok := e.archs[key]
	e.mu.Unlock()
	if ok {
		return a, nil
	}
	a, err := arch.Load(ref, sets)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if len(e.archs) < maxCachedArchs {
		e.archs[key] = a
	}
	e.mu.Unlock()
	return a, nil
}

// mapping loads a mapping once per (reference, shape, overrides): the
// lowering only reads a mapping without a search.
func (e *Evaluator) mapping(ref string, shape map[string]int64, sets []string) (*lower.Mapping, error) {
	key := ref + "\x00" + workload.FormatShape(shape) + "\x00" + strings.Join(sets, "\x00")
	e.mu.Lock()
	m, ok := e.maps[key]
	e.mu.Unlock()
	if ok {
		return m, nil
	}
	m, err := lower.LoadMapping(ref, shape, sets)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if len(m.Search) == 0 && len(e.maps) < maxCachedArchs {
		e.maps[key] = m
	}
	e.mu.Unlock()
	return m, nil
}

func (e *Evaluator) config(ref string) (*lower.Config, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.configs[ref]; ok {
		return c, nil
	}
	c, err := lower.LoadConfig(ref)
	if err != nil {
		return nil, err
	}
	e.configs[ref] = c
	return c, nil
}

// kernel parses and checks a kernel (file or built-in name) once, with its
// pass count over the default rank.
func (e *Evaluator) kernel(ref, cascade string) (*kernelInfo, error) {
	key := ref + "\x00" + cascade
	e.mu.Lock()
	defer e.mu.Unlock()
	if k, ok := e.kernels[key]; ok {
		return k, nil
	}
	name, src, err := kernels.Resolve(ref)
	if err != nil {
		return nil, err
	}
	prog, err := einsum.Parse(name, src)
	if err != nil {
		return nil, fmt.Errorf("%s", einsum.Render(err, src))
	}
	c, err := pickCascade(prog, cascade)
	if err != nil {
		return nil, err
	}
	pr, err := passes.Analyze(c, "")
	if err != nil {
		return nil, err
	}
	k := &kernelInfo{cascade: c, passes: pr.Passes}
	e.kernels[key] = k
	return k, nil
}

func pickCascade(prog *einsum.Program, name string) (*einsum.Cascade, error) {
	var names []string
	for _, c := range prog.Cascades {
		if c.Name == name || (name == "" && len(prog.Cascades) == 1) {
			return c, nil
		}
		names = append(names, c.Name)
	}
	if name == "" {
		return nil, fmt.Errorf("%s holds several cascades (%s); name one with cascade:", prog.File, strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("%s has no cascade %q (it has: %s)", prog.File, name, strings.Join(names, ", "))
}

// mappingsFor lists the shipped mappings written for a kernel, in name
// order: the candidates when a design names none.
func (e *Evaluator) mappingsFor(kernel string, shape map[string]int64) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if l, ok := e.mappings[kernel]; ok {
		return l
	}
	var out []string
	for _, name := range specs.Names("mapping") {
		if m, err := lower.LoadMapping(name, shape, nil); err == nil && m.Kernel == kernel {
			out = append(out, name)
		}
	}
	e.mappings[kernel] = out
	return out
}

// gpuMappings lists the shipped GPU mappings (kind: gpu), in name order.
func gpuMappings() []string {
	var out []string
	for _, name := range specs.Names("mapping") {
		if gpu.IsMapping(name) {
			out = append(out, name)
		}
	}
	return out
}

// evaluateGPU runs a design on a GPU spec through lower/gpu, as simulate
// does; without a named mapping the shipped GPU mapping with the least
// latency wins (the GPU model has no energy). The shape keeps only the
// sizes the cascade names and the mapping's instances (a workload's model
// dimensions D and S are for its linear layers).
func (e *Evaluator) evaluateGPU(d *Design, t *target, a *arch.Spec, shape map[string]int64) (*Metrics, error) {
	var best *gpu.Report
	var firstErr error
	for _, ref := range t.mappings {
		m, err := gpu.LoadMapping(ref, t.mapSets)
		if err == nil {
			var r *gpu.Report
			if r, err = gpu.Simulate(t.kernel.cascade, a, m, gpuShape(t.kernel.cascade, m, shape), cmp(d.Dtype, "fp16")); err == nil && (best == nil || r.LatencyS < best.LatencyS) {
				best = r
			}
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if best == nil {
		if t.chosen {
			return nil, fmt.Errorf("no shipped GPU mapping runs %s on %s (tried %s): %v", t.kernel.cascade.Name, a.Name, strings.Join(t.mappings, ", "), firstErr)
		}
		return nil, firstErr
	}
	nan := math.NaN()
	m := &Metrics{Kernel: best.Kernel, Arch: best.Arch, Mapping: best.Mapping, Shape: maps.Clone(best.Shape), Passes: t.kernel.passes,
		LatencyS: best.LatencyS, Cycles: best.Cycles, EnergyPJ: nan, TrafficBytes: best.HBMBytes, AreaMM2: nan,
		Utilization: maps.Clone(best.Utilization), Bound: best.BoundBy, BufferPeakBytes: map[string]float64{}, EnergyParts: map[string]float64{},
		WorkOps: best.UsefulFLOPs, BandwidthBS: a.GPU.HBM.Bandwidth}
	if best.PeakFraction > 0 {
		m.PeakOpsS = best.TFLOPS * 1e12 / best.PeakFraction
	}
	m.MappingNote = fmt.Sprintf("%s, %.0f TFLOPS (%.0f%% of peak); no energy or area model", best.Dtype, best.TFLOPS, 100*best.PeakFraction)
	if best.Tile.Warps > 0 {
		m.MappingNote = fmt.Sprintf("tile %d×%d, %d warps, %s", best.Tile.BlockM, best.Tile.BlockN, best.Tile.Warps, m.MappingNote)
	}
	if t.chosen {
		m.MappingNote = appendNote(m.MappingNote, "least latency of "+strings.Join(t.mappings, ", "))
	}
	return m, nil
}

func gpuShape(c *einsum.Cascade, m *gpu.Mapping, shape map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range shape {
		if c.Rank(k) != nil || slices.Contains(m.Instances, k) {
			out[k] = v
		}
	}
	return out
}

// metrics turns a lowering report into the review's numbers. Utilization
// is kept for every unit the spec has (compute arrays and memory
// channels); the roofline counts work in PE operations (busy PE-cycles).
func metrics(r *lower.Report, a *arch.Spec, npasses int) *Metrics {
	m := &Metrics{Kernel: r.Kernel, Arch: r.Arch, Mapping: r.Mapping, Shape: maps.Clone(r.Shape), Passes: npasses,
		LatencyS: r.LatencyS, Cycles: r.Cycles, EnergyPJ: r.EnergyPJ, TrafficBytes: r.TrafficBytes,
		AreaMM2: r.AreaUM2 * 1e-6, Utilization: map[string]float64{}, BufferPeakBytes: map[string]float64{},
		EnergyParts: map[string]float64{}}
	if r.Variant != "" {
		m.MappingNote = "variant " + r.Variant
	}
	if len(r.Searched) > 0 {
		m.MappingNote = appendNote(m.MappingNote, "search chose "+strings.Join(r.Searched, ", "))
	}
	for _, ar := range a.Arrays {
		u := r.Utilization[ar.Name]
		m.Utilization[ar.Name] = u
		m.WorkOps += u * float64(ar.PEs()) * r.Cycles
		m.PeakOpsS += float64(ar.PEs()) * a.ClockHz
	}
	for i, mem := range a.Memories {
		if u, ok := r.Utilization[mem.Name]; ok {
			m.Utilization[mem.Name] = u
		}
		if i == 0 {
			m.BandwidthBS = mem.Bandwidth
		} else {
			m.BufferPeakBytes[mem.Name] = r.BufferPeakBytes[mem.Name]
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.EnergyByAction)) {
		part, _, _ := strings.Cut(k, ".")
		m.EnergyParts[part] += r.EnergyByAction[k]
	}
	m.Bound = bound(m.Utilization)
	return m
}

// bound is the busiest unit: the one the latency is bounded by (the first
// in name order on a tie).
func bound(util map[string]float64) string {
	best, bu := "", -1.0
	for _, k := range slices.Sorted(maps.Keys(util)) {
		if util[k] > bu {
			best, bu = k, util[k]
		}
	}
	return best
}

// firstLine is an error's first line, up to its first "; " clause.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s, _, _ = strings.Cut(s, "; ")
	return s
}

func appendNote(note, s string) string {
	if note == "" {
		return s
	}
	return note + "; " + s
}

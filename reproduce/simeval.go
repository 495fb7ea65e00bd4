package reproduce

import (
	"fmt"
	"strings"
	"sync"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/lower"
	"github.com/fusemax/fusemax/sim"
	"github.com/fusemax/fusemax/specs"
)

// Simulator is the shipped Evaluator: it loads the point's configuration
// (kernel, arch spec with the point's overrides, mapping spec), lowers the
// cascade and runs the simulator, the same path as `fusemax simulate`.
type Simulator struct {
	mu       sync.Mutex
	cascades map[string]*einsum.Cascade
	configs  map[string][3]string
}

// NewSimulator returns an Evaluator backed by lower.Simulate.
func NewSimulator() *Simulator {
	return &Simulator{cascades: map[string]*einsum.Cascade{}, configs: map[string][3]string{}}
}

// Evaluate simulates one point.
func (s *Simulator) Evaluate(p Point) (*Result, error) {
	kernel, archRef, mappingRef, err := s.config(p.Config)
	if err != nil {
		return nil, err
	}
	c, err := s.cascade(kernel)
	if err != nil {
		return nil, err
	}
	a, err := arch.Load(archRef, p.ArchSet)
	if err != nil {
		return nil, err
	}
	m, err := lower.LoadMapping(mappingRef, p.Shape, nil)
	if err != nil {
		return nil, err
	}
	rep, err := lower.Simulate(c, a, m, p.Shape, lower.Options{}, sim.Options{})
	if err != nil {
		return nil, err
	}
	r := &Result{LatencyS: rep.LatencyS, TrafficBytes: rep.TrafficBytes, EnergyPJ: rep.EnergyPJ,
		Utilization: map[string]float64{}, Activity: rep.EinsumActivity, AreaUM2: rep.AreaUM2, AreaParts: rep.AreaParts}
	for _, ar := range a.Arrays {
		r.Utilization[ar.Name] = rep.Utilization[ar.Name]
	}
	r.MemoryS = rep.Utilization[a.Memories[0].Name] * rep.LatencyS
	switch p.Profile {
	case Physical:
		r.EnergyPJ += physicalRegisterFiles(a, rep.EnergyByAction)
	case "", "fusemax-micro24":
		// lower's own accounting is the artifact's (MODEL.md §9.1).
	default:
		return nil, fmt.Errorf("unknown energy profile %q (known: fusemax-micro24, %s)", p.Profile, Physical)
	}
	return r, nil
}

// physicalRegisterFiles is the register-file energy the artifact's
// accounting leaves out: lower charges one PE's accesses per array (Timeloop's
// per-instance statistics), while every PE of the array makes them. Until
// lower counts register files over all instances itself, the difference is
// the per-PE energy times the other PEs, which assumes every operation
// spans the whole array (true of every 2D Einsum of the FuseMax
// configurations; FLAT's output-stationary AV uses a quarter of it, so its
// register files are overcharged here).
func physicalRegisterFiles(a *arch.Spec, byAction map[string]float64) float64 {
	var extra float64
	for _, ar := range a.Arrays {
		rf := byAction[ar.Name+".rf.read"] + byAction[ar.Name+".rf.write"]
		extra += rf * float64(ar.PEs()-1)
	}
	return extra
}

func (s *Simulator) config(ref string) (kernel, archRef, mappingRef string, err error) {
	s.mu.Lock()
	c, ok := s.configs[ref]
	s.mu.Unlock()
	if ok {
		return c[0], c[1], c[2], nil
	}
	file, src, err := specs.Read("configs", ref)
	if err != nil {
		return "", "", "", err
	}
	d, err := specs.Parse(file, src)
	if err != nil {
		return "", "", "", err
	}
	var errs specs.Errors
	o := d.Obj(d.Root, "config", &errs)
	c = [3]string{o.Str("kernel", true), o.Str("arch", true), o.Str("mapping", true)}
	o.Done()
	if err := errs.Err(); err != nil {
		return "", "", "", err
	}
	s.mu.Lock()
	s.configs[ref] = c
	s.mu.Unlock()
	return c[0], c[1], c[2], nil
}

// cascade parses a built-in kernel once; lowering does not modify it.
func (s *Simulator) cascade(name string) (*einsum.Cascade, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cascades[name]; ok {
		return c, nil
	}
	prog, err := kernels.Load(name)
	if err != nil {
		return nil, err
	}
	if len(prog.Cascades) != 1 {
		var names []string
		for _, c := range prog.Cascades {
			names = append(names, c.Name)
		}
		return nil, fmt.Errorf("kernel %s holds %d cascades (%s); a configuration needs exactly one", name, len(prog.Cascades), strings.Join(names, ", "))
	}
	s.cascades[name] = prog.Cascades[0]
	return prog.Cascades[0], nil
}

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
)

// Simulator is the shipped Evaluator: it loads the point's configuration
// (kernel, arch spec with the configuration's and the point's overrides,
// mapping spec), lowers the cascade under the point's energy profile and
// runs the simulator, the same path as `fusemax simulate`.
type Simulator struct {
	mu       sync.Mutex
	cascades map[string]*einsum.Cascade
	configs  map[string]*lower.Config
}

// NewSimulator returns an Evaluator backed by lower.Simulate.
func NewSimulator() *Simulator {
	return &Simulator{cascades: map[string]*einsum.Cascade{}, configs: map[string]*lower.Config{}}
}

// Evaluate simulates one point.
func (s *Simulator) Evaluate(p Point) (*Result, error) {
	conf, err := s.config(p.Config)
	if err != nil {
		return nil, err
	}
	c, err := s.cascade(conf.Kernel)
	if err != nil {
		return nil, err
	}
	a, err := arch.Load(conf.Arch, append(conf.ArchSets(p.Profile), p.ArchSet...))
	if err != nil {
		return nil, err
	}
	m, err := lower.LoadMapping(conf.Mapping, p.Shape, nil)
	if err != nil {
		return nil, err
	}
	rep, err := lower.Simulate(c, a, m, p.Shape, lower.Options{EnergyProfile: p.Profile}, sim.Options{})
	if err != nil {
		return nil, err
	}
	r := &Result{LatencyS: rep.LatencyS, TrafficBytes: rep.TrafficBytes, EnergyPJ: rep.EnergyPJ,
		Utilization: map[string]float64{}, Activity: rep.EinsumActivity, AreaUM2: rep.AreaUM2, AreaParts: rep.AreaParts}
	for _, ar := range a.Arrays {
		r.Utilization[ar.Name] = rep.Utilization[ar.Name]
	}
	r.MemoryS = rep.Utilization[a.Memories[0].Name] * rep.LatencyS
	return r, nil
}

func (s *Simulator) config(ref string) (*lower.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.configs[ref]; ok {
		return c, nil
	}
	c, err := lower.LoadConfig(ref)
	if err != nil {
		return nil, err
	}
	s.configs[ref] = c
	return c, nil
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

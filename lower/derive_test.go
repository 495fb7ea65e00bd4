package lower

import (
	"strings"
	"testing"
	"time"

	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/sim"
)

// Every kernel of the library simulates on both shipped machines with no
// hand-written mapping.
func TestDerivedMappingEveryKernel(t *testing.T) {
	shape := map[string]int64{"B": 1, "H": 2, "E": 64, "F": 64, "M": 4096, "P": 4096, "K": 1024, "N": 1024}
	for _, archName := range []string{"fusemax-cloud", "flat-cloud"} {
		for _, name := range kernels.Names() {
			p, err := kernels.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			_, a := load(t, "attention_1pass", archName)
			for _, c := range p.Cascades {
				sh := cascadeShape(c, shape)
				m, text, err := DeriveMapping(c, a, sh)
				if err != nil {
					t.Errorf("%s on %s: %v", c.Name, archName, err)
					continue
				}
				start := time.Now()
				r, err := Simulate(c, a, m, sh, Options{}, sim.Options{})
				t.Logf("%s on %s: %v", c.Name, archName, time.Since(start))
				if err != nil {
					t.Errorf("%s on %s: %v\n%s", c.Name, archName, err, text)
					continue
				}
				if !r.MappingDerived || !strings.Contains(r.MappingSpec, "einsums:") || r.LatencyS <= 0 {
					t.Errorf("%s on %s: derived %v, latency %g, spec:\n%s", c.Name, archName, r.MappingDerived, r.LatencyS, r.MappingSpec)
				}
				t.Logf("%s on %s: %.4g s, %.4g pJ, search %v", c.Name, archName, r.LatencyS, r.EnergyPJ, r.Searched)
			}
		}
	}
}

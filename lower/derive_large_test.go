package lower

import (
	"fmt"
	"testing"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/sim"
)

// TestDerivedMappingLongSequences: every kernel derives a feasible mapping
// at BERT's shape with a 64K and a 1M sequence, where a cascade's
// intermediates and even its inputs outgrow the global buffer. The four
// (sequence, machine) pairs run in parallel: each is a hundred-odd searches.
func TestDerivedMappingLongSequences(t *testing.T) {
	for _, seq := range []int64{64 << 10, 1 << 20} {
		shape := map[string]int64{"B": 1, "H": 12, "E": 64, "F": 64, "M": seq, "P": seq, "K": 1024, "N": 1024}
		for _, archName := range []string{"fusemax-cloud", "flat-cloud"} {
			t.Run(fmt.Sprintf("%s/%d", archName, seq), func(t *testing.T) {
				t.Parallel()
				derivedEveryKernel(t, archName, seq, shape)
			})
		}
	}
}

// derivedEveryKernel derives and simulates every kernel's cascades on one
// machine at one sequence length.
func derivedEveryKernel(t *testing.T, archName string, seq int64, shape map[string]int64) {
	_, a := load(t, "attention_1pass", archName)
	for _, name := range kernels.Names() {
		p, err := kernels.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Cascades {
			sh := cascadeShape(c, shape)
			m, text, err := DeriveMapping(c, a, sh)
			if err != nil {
				t.Errorf("%s on %s at %d: %v", c.Name, archName, seq, err)
				continue
			}
			r, err := Simulate(c, a, m, sh, Options{}, sim.Options{})
			if err != nil {
				t.Errorf("%s on %s at %d: %v\n%s", c.Name, archName, seq, err, text)
				continue
			}
			t.Logf("%s on %s at %d: %.4g s, search %v", c.Name, archName, seq, r.LatencyS, r.Searched)
		}
	}
}

// cascadeShape is shape restricted to c's ranks (and the instance ranks B
// and H), with 1024 for every other rank: a size nobody tuned for.
func cascadeShape(c *einsum.Cascade, shape map[string]int64) map[string]int64 {
	sh := map[string]int64{}
	for k, v := range shape {
		if c.Rank(k) != nil || k == "B" || k == "H" {
			sh[k] = v
		}
	}
	for _, r := range c.Ranks {
		if _, ok := sh[r.Name]; !ok && r.Parent == nil {
			sh[r.Name] = 1024
		}
	}
	return sh
}

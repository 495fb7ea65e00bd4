package multi

import (
	"fmt"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/lower/gpu"
)

// GPUModel lowers the share on a GPU tile architecture under a GPU mapping
// (package lower/gpu: FlashAttention-2 or -3 style) and simulates the
// busiest SM. Results are memoised by shape.
type GPUModel struct {
	Arch    *arch.Spec
	Mapping string
	Dtype   string

	memo costMemo
}

func (g *GPUModel) Describe() string {
	return fmt.Sprintf("lowered: %s under GPU mapping %s (%s), simulated", g.Arch.Name, g.Mapping, g.Dtype)
}

func (g *GPUModel) Cost(c *einsum.Cascade, shape map[string]int64) (Cost, error) {
	return g.memo.cost(c, shape, func(key string) (seconds, bytes float64, err error) {
		m, err := gpu.LoadMapping(g.Mapping, nil)
		if err != nil {
			return 0, 0, err
		}
		rep, err := gpu.Simulate(c, g.Arch, m, shape, g.Dtype)
		if err != nil {
			return 0, 0, fmt.Errorf("one device's share (%s): %w", key, err)
		}
		return rep.LatencyS, rep.HBMBytes, nil
	})
}

// gpuDtype is the element type whose rate a GPU device runs at, from the
// bytes it moves per element.
func gpuDtype(word float64) (string, error) {
	switch word {
	case 2:
		return "fp16", nil
	case 1:
		return "fp8", nil
	case 4:
		return "tf32", nil
	}
	return "", fmt.Errorf("no GPU element type of %g bytes (2: fp16, 1: fp8, 4: tf32)", word)
}

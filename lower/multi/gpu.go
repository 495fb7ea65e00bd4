package multi

import (
	"fmt"
	"sync"

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

	mu   sync.Mutex
	memo map[string]Cost
}

func (g *GPUModel) Describe() string {
	return fmt.Sprintf("lowered: %s under GPU mapping %s (%s), simulated", g.Arch.Name, g.Mapping, g.Dtype)
}

func (g *GPUModel) Cost(c *einsum.Cascade, shape map[string]int64) (Cost, error) {
	key := shapeKey(shape)
	g.mu.Lock()
	defer g.mu.Unlock()
	if v, ok := g.memo[key]; ok {
		return v, nil
	}
	m, err := gpu.LoadMapping(g.Mapping, nil)
	if err != nil {
		return Cost{}, err
	}
	rep, err := gpu.Simulate(c, g.Arch, m, shape, g.Dtype)
	if err != nil {
		return Cost{}, fmt.Errorf("one device's share (%s): %w", key, err)
	}
	f, err := MatrixFLOPs(c, shape)
	if err != nil {
		return Cost{}, err
	}
	v := Cost{Seconds: rep.LatencyS, FLOPs: f, Bytes: rep.HBMBytes}
	if g.memo == nil {
		g.memo = map[string]Cost{}
	}
	g.memo[key] = v
	return v, nil
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

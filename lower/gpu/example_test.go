package gpu_test

import (
	"fmt"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/lower/gpu"
)

// FlashAttention-3 on an H100: the library's 1-pass cascade, the mapping's
// tile for head dimension 128, and what bounds it.
func ExampleSimulate() {
	prog, _ := kernels.Load("attention_1pass")
	a, _ := arch.Load("h100-sxm5-80gb", nil)
	m, _ := gpu.LoadMapping("fa3", nil)
	shape := map[string]int64{"B": 4, "H": 16, "E": 128, "F": 128, "M": 8192, "P": 8192}
	r, err := gpu.Simulate(prog.Cascades[0], a, m, shape, "fp16")
	if err != nil {
		panic(err)
	}
	fmt.Printf("tile %d×%d, %d CTA/SM (%s), bound by %s\n", r.Tile.BlockM, r.Tile.BlockN, r.Occupancy.CTAsPerSM, r.Occupancy.LimitedBy, r.BoundBy)
	// Output:
	// tile 128×176, 1 CTA/SM (persistent schedule (one CTA per SM)), bound by tensor
}

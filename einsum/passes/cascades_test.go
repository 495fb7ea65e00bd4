package passes_test

import "github.com/fusemax/fusemax/kernels"

// The cascades of CASCADES.md and issue 2 are the kernel library's; the tests
// read them from there so that there is one copy of each.
var (
	attention3 = kernelSource("attention_3pass")
	attention2 = kernelSource("attention_2pass")
	attention1 = kernelSource("attention_1pass")
	toys       = kernelSource("toy_cascade1") + kernelSource("toy_cascade2") + kernelSource("toy_cascade3")
	gemm       = kernelSource("gemm")
)

func kernelSource(name string) string {
	src, ok := kernels.Source(name)
	if !ok {
		panic("no built-in kernel " + name)
	}
	return string(src)
}

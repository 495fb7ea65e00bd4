package llvm_test

import (
	"fmt"
	"strings"

	"github.com/fusemax/fusemax/kernels"
	"github.com/fusemax/fusemax/lower/llvm"
	"github.com/fusemax/fusemax/tensor"
)

// Generate lowers a cascade at one shape; the function takes the inputs,
// then the outputs. Exec (or Run) would compile and run it. The 1-pass
// cascade's intermediates stay at 6 MiB whatever M is.
func ExampleGenerate() {
	prog, err := kernels.Load("attention_1pass")
	if err != nil {
		fmt.Println(err)
		return
	}
	c := prog.Cascades[0]
	sizes, _, err := c.Bind(map[string]int64{"E": 64, "F": 64, "M": 4096, "M0": 64, "P": 4096})
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := llvm.Generate(c, sizes, llvm.Options{DType: tensor.F32})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(m.String(), "\n") {
		if strings.HasPrefix(line, "define void") {
			fmt.Println(line)
		}
	}
	fmt.Println(m.WorkBytes, "bytes of intermediates")
	// Output:
	// define void @fusemax_attention_1pass(float* noalias readonly %Q, float* noalias readonly %K, float* noalias readonly %V, float* noalias %AV) {
	// 233472 bytes of intermediates
}

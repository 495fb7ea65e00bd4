package llvm_test

import (
	"fmt"
	"strings"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/lower/llvm"
	"github.com/fusemax/fusemax/tensor"
)

// Generate lowers a cascade at one shape; the function takes the inputs,
// then the outputs. Exec (or Run) would compile and run it.
func ExampleGenerate() {
	prog, err := einsum.Parse("softmax.einsum", []byte(`
cascade softmax {
  ranks M
  input X[m]
  output Y[m]
  G = X[m] :: max(m)
  S[m] = exp(X[m] - G)
  D = S[m]
  Y[m] = S[m] / D
}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	c := prog.Cascade("softmax")
	sizes, _, err := c.Bind(map[string]int64{"M": 1024})
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
	// define void @fusemax_softmax(float* noalias readonly %X, float* noalias %Y) {
	// 4104 bytes of intermediates
}

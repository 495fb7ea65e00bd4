package einsum_test

import (
	"fmt"
	"math"

	"github.com/fusemax/fusemax/einsum"
)

func ExampleParse() {
	src := `cascade scores {
  ranks E, M, P
  input Q[e, p], K[e, m]
  output GM[p]
  QK[m, p] = Q[e, p] * K[e, m] / sqrt(E)
  GM[p] = QK[m, p] :: max(m)
}`
	prog, err := einsum.Parse("scores.einsum", []byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range prog.Cascades[0].Einsums {
		fmt.Println(e.Output, "reduces", e.Reductions)
	}
	// Output:
	// QK[m, p] reduces [{sum [E]}]
	// GM[p] reduces [{max [M]}]
}

func ExampleRender() {
	src := []byte("cascade c {\n  ranks M\n  input A[m]\n  output Z\n  Z = A[n]\n}\n")
	_, err := einsum.Parse("c.einsum", src)
	fmt.Println(einsum.Render(err, src))
	// Output:
	// c.einsum:5:9: n is neither a rank nor the variable of one (declare rank N)
	// 	  Z = A[n]
	// 	        ^
}

func ExampleCascade_Bind() {
	prog, _ := einsum.Parse("t.einsum", []byte(`cascade t {
  ranks M
  split M into M1, M0
  input K[m]
  output S
  S = K[m1*M0 + m0]
}`))
	shape, _ := einsum.ParseShape("M=4K,M0=256,B=2")
	sizes, unused, err := prog.Cascades[0].Bind(shape)
	fmt.Println(einsum.FormatShape(sizes), unused, err)
	// Output:
	// M=4096,M0=256,M1=16 [B] <nil>
}

// The running maximum of a fully masked tile is -inf on both sides, and
// its correction factor exp(RM[m1] - RM[m1+1]) must be 0, not NaN.
func ExampleDifference() {
	inf := math.Inf(1)
	fmt.Println(einsum.Difference(-inf, -inf), einsum.Difference(inf, inf), einsum.Difference(3, 1))
	// Output: -Inf NaN 2
}

package arch_test

import (
	"fmt"

	"github.com/fusemax/fusemax/arch"
)

func ExampleLoad() {
	s, err := arch.Load("fusemax-cloud", []string{"arrays.2d.rows=128", "arrays.2d.cols=128"})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Describe())
	exp, _ := s.Array("2d").PE.Expand("exp")
	fmt.Println("exp on the 2D PE:", exp)
	// Output:
	// fusemax-cloud: 2d 128×128, 1d 256, L3 16 MiB
	// exp on the 2D PE: map[mac:6]
}

package kernels_test

import (
	"fmt"

	"github.com/fusemax/fusemax/kernels"
)

func ExampleLoad() {
	prog, err := kernels.Load("attention_1pass")
	if err != nil {
		fmt.Println(err)
		return
	}
	c := prog.Cascades[0]
	fmt.Println(c.Name, len(c.Einsums), "einsums,", len(c.Loops), "iterate block")
	// Output:
	// attention_1pass 17 einsums, 1 iterate block
}

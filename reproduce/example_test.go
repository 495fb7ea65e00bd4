package reproduce_test

import (
	"fmt"

	"github.com/fusemax/fusemax/reproduce"
)

// The artifact's CSVs were written by Python: floats in repr form, counts
// as integers unless a fractional spill share made them floats.
func ExamplePyRepr() {
	fmt.Println(reproduce.PyRepr(7049554725680894.0), reproduce.PyRepr(2.7854916498260326e+18), reproduce.PyRepr(1.2e-05))
	fmt.Println(reproduce.PyCount(402653184), reproduce.PyCount(21128367461.209305))
	// Output:
	// 7049554725680894.0 2.7854916498260326e+18 1.2e-05
	// 402653184 21128367461.209305
}

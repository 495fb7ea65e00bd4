package specs_test

import (
	"fmt"

	"github.com/fusemax/fusemax/specs"
)

func ExampleParseQuantity() {
	v, _ := specs.ParseQuantity("16 MiB", specs.Bytes)
	fmt.Println(v)
	_, err := specs.ParseQuantity("16 MHz", specs.Bytes)
	fmt.Println(err)
	// Output:
	// 1.6777216e+07
	// unit "MHz" in "16 MHz" is inconsistent: want a size (B, KiB, MiB, GiB, TiB, bit)
}

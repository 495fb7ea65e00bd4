package syntax_test

import (
	"fmt"

	"github.com/fusemax/fusemax/einsum/syntax"
)

func ExampleFormat() {
	f, err := syntax.ParseFile("c.einsum", []byte("cascade c{ranks M,P input QK[m,p] output GM[p] GM[p]=QK[m,p]::∨_m max(∪)}"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(syntax.Format(f))
	// Output:
	// cascade c {
	//   ranks M, P
	//   input QK[m, p]
	//   output GM[p]
	//   GM[p] = QK[m, p] :: max(m)
	// }
}

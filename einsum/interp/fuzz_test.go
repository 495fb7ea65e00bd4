package interp

import (
	"testing"
	"time"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/kernels"
)

// FuzzRun runs every cascade the checker accepts on small sizes: the
// interpreter may report an error but must never panic.
func FuzzRun(f *testing.F) {
	for _, name := range kernels.Names() {
		src, _ := kernels.Source(name)
		f.Add(string(src), uint8(2))
	}
	f.Add(causalSrc, uint8(3))
	f.Add(`cascade c { ranks I, J input A[i, j] output G[j] S[i: i < j, j] = A[i, j]  G[j] = S[i, j] :: max(i) }`, uint8(3))
	f.Add(`cascade c { ranks I input A[i] output Z R[0] = 0 R[i+1] = R[i] + A[i] Z = R[I] }`, uint8(4))
	f.Add(`cascade c { ranks I input A[i] output Z R[0] = 0 iterate i until i >= 2 { R[i+1] = R[i] + A[i] } Z = R[2] + R[3] }`, uint8(4))
	f.Fuzz(func(t *testing.T, src string, size uint8) {
		prog, err := einsum.Parse("fuzz.einsum", []byte(src))
		if err != nil {
			return
		}
		n := int64(size%4) + 1
		for _, c := range prog.Cascades {
			shape := map[string]int64{}
			for _, r := range c.Ranks {
				if len(r.Parts) == 0 {
					shape[r.Name] = n
				}
			}
			sizes, _, err := c.Bind(shape)
			if err != nil {
				continue
			}
			elems := int64(0)
			for _, tt := range c.Tensors {
				e, err := tt.Size().Eval(sizes)
				if err != nil || e > 1<<16 {
					elems = -1
					break
				}
				elems += e
			}
			if elems < 0 {
				continue
			}
			in, err := RandomInputs(c, sizes, 1)
			if err != nil {
				continue
			}
			work := int64(0)
			for _, e := range c.Einsums {
				w := int64(1)
				for _, v := range e.Vars {
					w *= sizes[v.Name]
				}
				work += w
			}
			if work > 1<<18 {
				continue
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for _, dt := range []DType{F64, F32} {
					_, _ = Run(c, sizes, in, Options{DType: dt})
				}
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("Run did not finish on sizes %v:\n%s", sizes, src)
			}
		}
	})
}

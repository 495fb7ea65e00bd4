package interp

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/fusemax/fusemax/einsum"
)

// dataFilter is a compiled data-dependent filter: X op Y on values.
type dataFilter struct {
	op   einsum.CmpOp
	x, y *node
}

func (s *stmt) filtered() bool { return len(s.filters) > 0 || len(s.data) > 0 }

func (m *machine) compileDataFilters(e *einsum.Einsum, n int) ([]dataFilter, error) {
	var out []dataFilter
	for _, f := range e.Filters {
		if f.Data == nil {
			continue
		}
		x, err := m.compileExpr(f.Data.X, n)
		if err != nil {
			return nil, err
		}
		y, err := m.compileExpr(f.Data.Y, n)
		if err != nil {
			return nil, err
		}
		out = append(out, dataFilter{op: f.Op, x: x, y: y})
	}
	return out, nil
}

// applyData narrows the admitted elements of the vector by the data
// filters; false when none is left. Elements the affine filters exclude are
// not read (fvalid), and an element whose read is undefined is excluded, as
// is one where a side is NaN.
func (m *machine) applyData(s *stmt) bool {
	if m.masked {
		m.fvalid = m.fbuf[:m.n]
		copy(m.fvalid, m.valid[:m.n])
	}
	at := func(nd *node, k int, sv float64, vv []float64) float64 {
		if nd.dep {
			return vv[k]
		}
		return sv
	}
	for _, df := range s.data {
		var xs, ys float64
		var xv, yv []float64
		if df.x.dep {
			xv = df.x.v()
		} else {
			xs = df.x.s()
		}
		if df.y.dep {
			yv = df.y.v()
		} else {
			ys = df.y.s()
		}
		if m.none {
			return false
		}
		for k := 0; k < m.n; k++ {
			if !df.op.HoldsValue(at(df.x, k, xs, xv), at(df.y, k, ys, yv)) {
				m.invalidate(k)
			}
		}
	}
	m.fvalid = nil
	return !m.masked || bytes.IndexByte(m.valid[:m.n], 1) >= 0
}

// selectTopK turns the values a topk statement computed into its
// selection: along the topk variable, a defined point becomes 1 when fewer
// than K defined points of its fiber rank above it (a larger value, or an
// equal value at a lower index), else 0. NaN is never selected and ranks
// above nothing.
func (m *machine) selectTopK(s *stmt) {
	if m.err != nil {
		return
	}
	ts := s.out.ts
	dim := -1
	for d, a := range s.e.Output.Index {
		if r, ok := a.IsVar(); ok && r == s.e.TopK.Var {
			dim = d
		}
	}
	k := s.e.TopK.K.MustEval(m.sizes)
	shape, strides := ts.d.Shape, ts.strides
	n, step := shape[dim], strides[dim]
	vals := make([]float64, n)
	for start := range ts.d.Data {
		if (start/step)%n != 0 {
			continue // not the first point of its fiber
		}
		for i := range vals {
			vals[i] = ts.d.Data[start+i*step]
		}
		for i, v := range vals {
			off := start + i*step
			if ts.mask[off] == 0 {
				continue
			}
			above := int64(0)
			for j, w := range vals {
				if ts.mask[start+j*step] != 0 && (w > v || w == v && j < i) {
					above++
				}
			}
			ts.d.Data[off] = 0
			if v == v && above < k {
				ts.d.Data[off] = 1
			}
		}
	}
}

// checkDefined reports the first point of an output that no statement
// defined, unless the output is declared partial.
func (m *machine) checkDefined() error {
	for _, t := range m.c.Outputs {
		ts := m.tensors[t]
		if t.Partial || ts.full {
			continue
		}
		i := bytes.IndexByte(ts.mask, 0)
		if i < 0 {
			continue
		}
		return fmt.Errorf("%s: output %s is not defined at %s: no statement writes that point (declare it `output partial %s` if points may stay undefined)",
			t.Pos, t.Name, pointName(t.Name, ts.d.Shape, i), t.Name)
	}
	return nil
}

// pointName is T[i, j, …] for the flat offset off of a row-major tensor.
func pointName(name string, shape []int, off int) string {
	idx := make([]string, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = fmt.Sprint(off % shape[d])
		off /= shape[d]
	}
	return name + "[" + strings.Join(idx, ", ") + "]"
}

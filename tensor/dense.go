package tensor

import (
	"fmt"
	"math"
)

// Dense is a row-major dense tensor. A scalar has an empty Shape and one
// element.
type Dense struct {
	Shape []int
	Data  []float64
}

// New returns a zero tensor of the given shape.
func New(shape ...int) *Dense {
	return &Dense{Shape: append([]int{}, shape...), Data: make([]float64, NumElems(shape))}
}

// Filled returns a tensor of the given shape with every element v.
func Filled(v float64, shape ...int) *Dense {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = v
	}
	return t
}

// NumElems is the product of the extents (1 for a scalar).
func NumElems(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// Strides are the row-major strides of t, in elements.
func (t *Dense) Strides() []int { return Strides(t.Shape) }

// Strides are the row-major strides of a shape, in elements.
func Strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// Offset is the flat index of a point; it panics when the point is outside
// the tensor, like a slice index would.
func (t *Dense) Offset(idx ...int) int {
	if len(idx) != len(t.Shape) {
		panic(fmt.Sprintf("tensor: %d indices for a rank-%d tensor", len(idx), len(t.Shape)))
	}
	off := 0
	for i, x := range idx {
		if x < 0 || x >= t.Shape[i] {
			panic(fmt.Sprintf("tensor: index %v out of shape %v", idx, t.Shape))
		}
		off = off*t.Shape[i] + x
	}
	return off
}

// At returns the element at a point.
func (t *Dense) At(idx ...int) float64 { return t.Data[t.Offset(idx...)] }

// Set stores the element at a point.
func (t *Dense) Set(v float64, idx ...int) { t.Data[t.Offset(idx...)] = v }

// Clone returns a deep copy.
func (t *Dense) Clone() *Dense {
	return &Dense{Shape: append([]int{}, t.Shape...), Data: append([]float64{}, t.Data...)}
}

// SameShape reports whether t and u have equal shapes.
func (t *Dense) SameShape(u *Dense) bool {
	if len(t.Shape) != len(u.Shape) {
		return false
	}
	for i := range t.Shape {
		if t.Shape[i] != u.Shape[i] {
			return false
		}
	}
	return true
}

// RoundF32 rounds every element to the nearest float32, in place, and
// returns t.
func (t *Dense) RoundF32() *Dense {
	for i, v := range t.Data {
		t.Data[i] = float64(float32(v))
	}
	return t
}

// MaxAbsDiff is the largest |t-u| and the largest |t-u|/|u| over elements
// (relative error taken where u is nonzero). Equal infinities and two NaNs
// count as agreement; any other mismatch involving them is +Inf. It returns an
// error when the shapes differ.
func MaxAbsDiff(t, u *Dense) (abs, rel float64, err error) {
	if !t.SameShape(u) {
		return 0, 0, fmt.Errorf("shapes %v and %v differ", t.Shape, u.Shape)
	}
	for i, a := range t.Data {
		b := u.Data[i]
		if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
			continue
		}
		d := math.Abs(a - b)
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		abs = math.Max(abs, d)
		if b != 0 {
			rel = math.Max(rel, d/math.Abs(b))
		}
	}
	return abs, rel, nil
}

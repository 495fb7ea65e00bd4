package einsum

import (
	"math"
	"strconv"
)

var (
	negInf = math.Inf(-1)
	posInf = math.Inf(1)
)

// Expr is a right-hand-side expression node: *Const, *SizeValue,
// *IndexValue, *Read, *Unary or *Binary.
type Expr interface {
	exprNode()
	// Position of the node in the source.
	At() Pos
}

// Const is a numeric constant (inf and -inf included).
type Const struct {
	Pos   Pos
	Value float64
}

// SizeValue is a rank's size used as a value, as in / sqrt(E).
type SizeValue struct {
	Pos  Pos
	Rank *Rank
}

// IndexValue is an index variable used as a value, as in Slope * (p - m):
// the position the variable has at the point being computed.
type IndexValue struct {
	Pos  Pos
	Rank *Rank
}

// Read reads a tensor at an affine index.
type Read struct {
	Access *Access
}

// UnaryOp is an element-wise function of one argument.
type UnaryOp int

const (
	Neg UnaryOp = iota
	Exp
	Log
	Sqrt
	Abs
	Relu
	Sigmoid
	Tanh
	Sign
	Exp2
	Log2
	Erf
)

var unaryNames = [...]string{"-", "exp", "log", "sqrt", "abs", "relu", "sigmoid", "tanh", "sign", "exp2", "log2", "erf"}

func (o UnaryOp) String() string { return unaryNames[o] }

// Apply computes the function in float64.
func (o UnaryOp) Apply(x float64) float64 {
	switch o {
	case Neg:
		return -x
	case Exp:
		return math.Exp(x)
	case Log:
		return math.Log(x)
	case Sqrt:
		return math.Sqrt(x)
	case Abs:
		return math.Abs(x)
	case Relu:
		if x > 0 {
			return x
		}
		return 0
	case Sigmoid:
		return 1 / (1 + math.Exp(-x))
	case Tanh:
		return math.Tanh(x)
	case Sign:
		return sign(x)
	case Exp2:
		return math.Exp2(x)
	case Log2:
		return math.Log2(x)
	default:
		return math.Erf(x)
	}
}

// sign is -1, 0 or 1; it keeps the sign of a zero and NaN stays NaN.
func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x
}

// Unary applies a UnaryOp.
type Unary struct {
	Pos Pos
	Op  UnaryOp
	X   Expr
}

// BinaryOp is an element-wise operator of two arguments.
type BinaryOp int

const (
	Add BinaryOp = iota
	Sub
	Mul
	Div
	MaxOf
	MinOf
	Pow
)

var binaryNames = [...]string{"+", "-", "*", "/", "max", "min", "pow"}

func (o BinaryOp) String() string { return binaryNames[o] }

// Difference is x - y with the language's rule for an empty maximum:
// -inf - -inf is -inf, not NaN, so that exp(RM[m1] - RM[m1+1]) is 0 while
// no key has been seen (a fully masked leading tile) and a running sum
// scaled by it stays 0. Every other case is IEEE subtraction.
func Difference(x, y float64) float64 {
	d := x - y
	if d != d && x == y && x < 0 {
		return x
	}
	return d
}

// Apply computes the operator in float64.
func (o BinaryOp) Apply(x, y float64) float64 {
	switch o {
	case Add:
		return x + y
	case Sub:
		return Difference(x, y)
	case Mul:
		return x * y
	case Div:
		return x / y
	case MaxOf:
		return math.Max(x, y)
	case MinOf:
		return math.Min(x, y)
	default:
		return math.Pow(x, y)
	}
}

// Binary applies a BinaryOp.
type Binary struct {
	Pos  Pos
	Op   BinaryOp
	X, Y Expr
}

func (*Const) exprNode()      {}
func (*SizeValue) exprNode()  {}
func (*IndexValue) exprNode() {}
func (*Read) exprNode()       {}
func (*Unary) exprNode()      {}
func (*Binary) exprNode()     {}

func (x *Const) At() Pos      { return x.Pos }
func (x *SizeValue) At() Pos  { return x.Pos }
func (x *IndexValue) At() Pos { return x.Pos }
func (x *Read) At() Pos       { return x.Access.Pos }
func (x *Unary) At() Pos      { return x.Pos }
func (x *Binary) At() Pos     { return x.Pos }

// Walk calls f for x and every node below it, parents first.
func Walk(x Expr, f func(Expr)) {
	f(x)
	switch x := x.(type) {
	case *Unary:
		Walk(x.X, f)
	case *Binary:
		Walk(x.X, f)
		Walk(x.Y, f)
	}
}

// FormatConst prints a constant the way the language writes it.
func FormatConst(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

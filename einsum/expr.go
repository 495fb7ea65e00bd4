package einsum

import (
	"math"
	"strconv"
)

var (
	negInf = math.Inf(-1)
	posInf = math.Inf(1)
)

// Expr is a right-hand-side expression node: *Const, *SizeValue, *Read,
// *Unary or *Binary.
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
)

var unaryNames = [...]string{"-", "exp", "log", "sqrt", "abs", "relu", "sigmoid"}

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
	default:
		return 1 / (1 + math.Exp(-x))
	}
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
)

var binaryNames = [...]string{"+", "-", "*", "/", "max", "min"}

func (o BinaryOp) String() string { return binaryNames[o] }

// Apply computes the operator in float64.
func (o BinaryOp) Apply(x, y float64) float64 {
	switch o {
	case Add:
		return x + y
	case Sub:
		return x - y
	case Mul:
		return x * y
	case Div:
		return x / y
	case MaxOf:
		return math.Max(x, y)
	default:
		return math.Min(x, y)
	}
}

// Binary applies a BinaryOp.
type Binary struct {
	Pos  Pos
	Op   BinaryOp
	X, Y Expr
}

func (*Const) exprNode()     {}
func (*SizeValue) exprNode() {}
func (*Read) exprNode()      {}
func (*Unary) exprNode()     {}
func (*Binary) exprNode()    {}

func (x *Const) At() Pos     { return x.Pos }
func (x *SizeValue) At() Pos { return x.Pos }
func (x *Read) At() Pos      { return x.Access.Pos }
func (x *Unary) At() Pos     { return x.Pos }
func (x *Binary) At() Pos    { return x.Pos }

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

package llvm

import (
	"math"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"

	"github.com/fusemax/fusemax/einsum"
)

// The functions the language added for the attention variants (tanh,
// sign, exp2, log2, pow, erf). In f32 each is an internal always-inline
// function built from arithmetic and selects only, so that the loop
// vectoriser widens the loops that call it (a call to tanhf cannot be);
// in f64 they are the C library's, whose accuracy the f64 mode is for.
// Measured accuracy against Go's math package is in docs/language.md and
// checked by TestMathAccuracy.

// f32Func returns the module's internal function name, building it with
// body on first use.
func (g *gen) f32Func(name string, nargs int, body func(b *ir.Block, args []value.Value) value.Value) *ir.Func {
	if f, ok := g.intr[name]; ok {
		return f
	}
	var ps []*ir.Param
	for i := 0; i < nargs; i++ {
		ps = append(ps, ir.NewParam("", types.Float))
	}
	fn := g.m.NewFunc(name, types.Float, ps...)
	fn.Linkage = enum.LinkageInternal
	fn.FuncAttrs = append(fn.FuncAttrs, enum.FuncAttrAlwaysInline)
	g.intr[name] = fn
	args := make([]value.Value, nargs)
	for i, p := range ps {
		args[i] = p
	}
	b := fn.NewBlock("")
	b.NewRet(body(b, args))
	return fn
}

func c32(v float64) *constant.Float { return constant.NewFloat(types.Float, float64(float32(v))) }

// libm calls a C library function of the compute type (tanh, erf).
func (g *gen) libm(name string, x value.Value) value.Value {
	if g.ft == types.Float {
		name += "f"
	}
	f, ok := g.intr[name]
	if !ok {
		f = g.m.NewFunc(name, g.ft, ir.NewParam("", g.ft))
		g.intr[name] = f
	}
	return g.b.NewCall(f, x)
}

// horner evaluates Σ coef[i]·x^i (coef lowest first) with multiply-adds.
func (g *gen) horner(b *ir.Block, x value.Value, coef []float64) value.Value {
	fma := g.intrinsic("llvm.fmuladd.f32", types.Float, 3)
	var p value.Value = c32(coef[len(coef)-1])
	for i := len(coef) - 2; i >= 0; i-- {
		p = b.NewCall(fma, p, x, c32(coef[i]))
	}
	return p
}

func (g *gen) fabs32(b *ir.Block, x value.Value) value.Value {
	return b.NewCall(g.intrinsic("llvm.fabs.f32", types.Float, 1), x)
}

func (g *gen) copysign32(b *ir.Block, mag, sgn value.Value) value.Value {
	return b.NewCall(g.intrinsic("llvm.copysign.f32", types.Float, 2), mag, sgn)
}

// tanh32: an odd Taylor polynomial to x^13 below |x| = 0.4 (truncation
// 4e-9 relative), above it 1 - 2/(exp(2|x|) + 1) with the polynomial exp,
// where the subtraction loses at most a factor 1.6; the sign is copied back.
func (g *gen) tanh32() *ir.Func {
	return g.f32Func("fm_tanhf", 1, func(b *ir.Block, a []value.Value) value.Value {
		x := a[0]
		ax := g.fabs32(b, x)
		x2 := b.NewFMul(ax, ax)
		taylor := []float64{1, -1.0 / 3, 2.0 / 15, -17.0 / 315, 62.0 / 2835, -1382.0 / 155925, 21844.0 / 6081075}
		small := b.NewFMul(ax, g.horner(b, x2, taylor))
		e := b.NewCall(g.expFunc(), b.NewFMul(ax, c32(2)))
		large := b.NewFSub(c32(1), b.NewFDiv(c32(2), b.NewFAdd(e, c32(1))))
		y := b.NewSelect(b.NewFCmp(enum.FPredOLT, ax, c32(0.4)), small, large)
		return g.copysign32(b, y, x)
	})
}

func (g *gen) expFunc() *ir.Func {
	if g.expF == nil {
		g.expF = g.expf32()
	}
	return g.expF
}

// exp2_32: n = rint(x) and r = (x - n)·ln2 (x - n is exact), e^r by its
// Taylor polynomial of degree 7 (|r| ≤ ln2/2: truncation 5e-9), times 2^n
// built in the exponent bits. Below -126 the result is 0 (subnormals flush),
// above 128 +inf, NaN stays NaN.
func (g *gen) exp2_32() *ir.Func {
	return g.f32Func("fm_exp2f", 1, func(b *ir.Block, a []value.Value) value.Value {
		x := a[0]
		xc := b.NewSelect(b.NewFCmp(enum.FPredOLT, x, c32(-126)), c32(-126), x)
		xc = b.NewSelect(b.NewFCmp(enum.FPredOGT, xc, c32(128)), c32(128), xc)
		n := b.NewCall(g.intrinsic("llvm.rint.f32", types.Float, 1), xc)
		r := b.NewFMul(b.NewFSub(xc, n), c32(math.Ln2))
		p := g.horner(b, r, []float64{1, 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040})
		bits := b.NewShl(b.NewAdd(b.NewFPToSI(n, types.I32), constant.NewInt(types.I32, 127)), constant.NewInt(types.I32, 23))
		y := value.Value(b.NewFMul(p, b.NewBitCast(bits, types.Float)))
		y = b.NewSelect(b.NewFCmp(enum.FPredOLT, x, c32(-126)), c32(0), y)
		y = b.NewSelect(b.NewFCmp(enum.FPredOGT, x, c32(128)), c32(math.Inf(1)), y)
		return b.NewSelect(b.NewFCmp(enum.FPredUNO, x, x), x, y)
	})
}

// log2_32: x = 2^e·m with m in [√½, √2) from the bits (subnormals scaled
// by 2^23 first), ln m = 2·atanh(s) with s = (m-1)/(m+1), |s| ≤ 0.172, by
// its series to s^9 (truncation 4e-10), and log2 x = e + ln m·log2(e).
// log2(0) = -inf, log2 of a negative number is NaN, log2(inf) = inf.
func (g *gen) log2_32() *ir.Func {
	return g.f32Func("fm_log2f", 1, func(b *ir.Block, a []value.Value) value.Value {
		x := a[0]
		i32 := func(v int64) *constant.Int { return constant.NewInt(types.I32, v) }
		sub := b.NewFCmp(enum.FPredOLT, x, c32(math.Ldexp(1, -126)))
		xs := b.NewSelect(sub, b.NewFMul(x, c32(1<<23)), x)
		bits := b.NewBitCast(xs, types.I32)
		e := value.Value(b.NewSub(b.NewAShr(bits, i32(23)), i32(127)))
		e = b.NewAdd(e, b.NewSelect(sub, i32(-23), i32(0)))
		m := value.Value(b.NewBitCast(b.NewOr(b.NewAnd(bits, i32(0x7fffff)), i32(0x3f800000)), types.Float))
		big := b.NewFCmp(enum.FPredOGT, m, c32(math.Sqrt2))
		m = b.NewSelect(big, b.NewFMul(m, c32(0.5)), m)
		e = b.NewAdd(e, b.NewSelect(big, i32(1), i32(0)))
		s := b.NewFDiv(b.NewFSub(m, c32(1)), b.NewFAdd(m, c32(1)))
		s2 := b.NewFMul(s, s)
		lnm := b.NewFMul(b.NewFMul(s, c32(2)), g.horner(b, s2, []float64{1, 1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9}))
		fma := g.intrinsic("llvm.fmuladd.f32", types.Float, 3)
		y := value.Value(b.NewCall(fma, lnm, c32(math.Log2E), b.NewSIToFP(e, types.Float)))
		y = b.NewSelect(b.NewFCmp(enum.FPredOEQ, x, c32(math.Inf(1))), x, y)
		y = b.NewSelect(b.NewFCmp(enum.FPredOEQ, x, c32(0)), c32(math.Inf(-1)), y)
		return b.NewSelect(b.NewFCmp(enum.FPredULT, x, c32(0)), c32(math.NaN()), y) // negative or NaN
	})
}

// pow32 is exp2(y·log2|x|) with C's special cases: pow(x, 0) = pow(1, y)
// = 1, a negative x gives NaN unless y is an integer, whose parity gives
// the sign. Its relative error grows with |y·log2 x| (about 2^-24 of it).
func (g *gen) pow32() *ir.Func {
	return g.f32Func("fm_powf", 2, func(b *ir.Block, a []value.Value) value.Value {
		x, y := a[0], a[1]
		rint := g.intrinsic("llvm.rint.f32", types.Float, 1)
		l := b.NewCall(g.log2_32(), g.fabs32(b, x))
		r := value.Value(b.NewCall(g.exp2_32(), b.NewFMul(y, l)))
		isInt := b.NewFCmp(enum.FPredOEQ, b.NewCall(rint, y), y)
		half := b.NewFMul(y, c32(0.5))
		odd := b.NewAnd(isInt, b.NewFCmp(enum.FPredUNE, b.NewCall(rint, half), half))
		neg := b.NewSelect(isInt, b.NewSelect(odd, b.NewFNeg(r), r), c32(math.NaN()))
		r = b.NewSelect(b.NewFCmp(enum.FPredOLT, x, c32(0)), neg, r)
		one := b.NewOr(b.NewFCmp(enum.FPredOEQ, y, c32(0)), b.NewFCmp(enum.FPredOEQ, x, c32(1)))
		return b.NewSelect(one, c32(1), r)
	})
}

// erf32: below |x| = 0.5 its Taylor series to x^13 (truncation 3e-8
// relative); above, Abramowitz and Stegun 7.1.26 (absolute error 1.5e-7,
// so at most 3e-7 relative there) with the polynomial exp; sign copied back.
func (g *gen) erf32() *ir.Func {
	return g.f32Func("fm_erff", 1, func(b *ir.Block, a []value.Value) value.Value {
		x := a[0]
		ax := g.fabs32(b, x)
		x2 := b.NewFMul(ax, ax)
		k := 2 / math.SqrtPi
		small := b.NewFMul(ax, g.horner(b, x2, []float64{k, -k / 3, k / 10, -k / 42, k / 216, -k / 1320, k / 9360}))
		t := b.NewFDiv(c32(1), b.NewFAdd(c32(1), b.NewFMul(ax, c32(0.3275911))))
		p := g.horner(b, t, []float64{0, 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429})
		large := b.NewFSub(c32(1), b.NewFMul(p, b.NewCall(g.expFunc(), b.NewFNeg(x2))))
		y := b.NewSelect(b.NewFCmp(enum.FPredOLT, ax, c32(0.5)), small, large)
		return g.copysign32(b, y, x)
	})
}

// sign is -1, 0 or 1, keeping a zero's sign and NaN, as einsum.Sign.
func (g *gen) sign(x value.Value) value.Value {
	one := g.constLike(x, 1)
	y := g.b.NewSelect(g.b.NewFCmp(enum.FPredOLT, x, g.constLike(x, 0)), g.constLike(x, -1), x)
	return g.b.NewSelect(g.b.NewFCmp(enum.FPredOGT, x, g.constLike(x, 0)), one, y)
}

// difference is x - y with the language's -inf - -inf = -inf
// (einsum.Difference), for scalars and vectors alike.
func (g *gen) difference(x, y value.Value) value.Value {
	d := g.b.NewFSub(x, y)
	ninf := g.constLike(x, math.Inf(-1))
	both := g.b.NewAnd(g.b.NewFCmp(enum.FPredOEQ, x, ninf), g.b.NewFCmp(enum.FPredOEQ, y, ninf))
	return g.b.NewSelect(both, ninf, d)
}

// constLike is v in x's type: a scalar of the compute type, or a vector.
func (g *gen) constLike(x value.Value, v float64) value.Value {
	if vt, ok := x.Type().(*types.VectorType); ok {
		return g.splat(g.fconst(v), vt)
	}
	return g.fconst(v)
}

// mathUnary computes the functions above; ok is false for other ops.
func (g *gen) mathUnary(op einsum.UnaryOp, x value.Value) (value.Value, bool) {
	f32 := g.ft == types.Float
	switch op {
	case einsum.Sign:
		return g.sign(x), true
	case einsum.Tanh:
		if f32 {
			return g.b.NewCall(g.tanh32(), x), true
		}
		return g.libm("tanh", x), true
	case einsum.Erf:
		if f32 {
			return g.b.NewCall(g.erf32(), x), true
		}
		return g.libm("erf", x), true
	case einsum.Exp2:
		if f32 {
			return g.b.NewCall(g.exp2_32(), x), true
		}
		return g.call("llvm.exp2", x), true
	case einsum.Log2:
		if f32 {
			return g.b.NewCall(g.log2_32(), x), true
		}
		return g.call("llvm.log2", x), true
	}
	return nil, false
}

func (g *gen) pow(x, y value.Value) value.Value {
	if g.ft == types.Float {
		return g.b.NewCall(g.pow32(), x, y)
	}
	return g.call("llvm.pow", x, y)
}

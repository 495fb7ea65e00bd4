package llvm

import (
	"math"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"
)

// exp calls the module's exp. In f32 it is a polynomial (fm_expf) that the
// loop vectoriser can widen, because a call to expf cannot be; in f64 it is
// llvm.exp, whose accuracy the f64 mode is for.
func (g *gen) exp(x value.Value) value.Value {
	if g.ft == types.Double {
		return g.call("llvm.exp", x)
	}
	if g.expF == nil {
		g.expF = g.expf32()
	}
	return g.b.NewCall(g.expF, x)
}

// expf32 emits exp for float: x = n·ln2 + r with n = rint(x·log2 e) and
// |r| ≤ ln2/2 (ln2 split in two constants so that r is exact, Cody and
// Waite), exp(r) by its Taylor polynomial of degree 6 in Horner form (six
// multiply-adds, as a FuseMax PE computes it; truncation error below 2e-7
// relative), and 2^n built in the exponent bits. Below -87.3 the result is
// 0 (so exp(-inf) = 0, which the first step of a running max relies on),
// above 88.7 it is +inf, and NaN stays NaN.
func (g *gen) expf32() *ir.Func {
	f32 := types.Float
	x := ir.NewParam("x", f32)
	fn := g.m.NewFunc("fm_expf", f32, x)
	fn.Linkage = enum.LinkageInternal
	fn.FuncAttrs = append(fn.FuncAttrs, enum.FuncAttrAlwaysInline)
	b := fn.NewBlock("")
	c := func(v float64) *constant.Float { return constant.NewFloat(f32, float64(float32(v))) }
	const lo, hi = -87.33654, 88.72283
	xc := b.NewSelect(b.NewFCmp(enum.FPredOLT, x, c(lo)), c(lo), x)
	xc = b.NewSelect(b.NewFCmp(enum.FPredOGT, xc, c(hi)), c(hi), xc)
	rint := g.intrinsic("llvm.rint.f32", f32, 1)
	fma := g.intrinsic("llvm.fmuladd.f32", f32, 3)
	n := b.NewCall(rint, b.NewFMul(xc, c(math.Log2E)))
	r := b.NewCall(fma, n, c(-0.693359375), xc) // ln2 high part: exact product
	r = b.NewCall(fma, n, c(2.12194440e-4), r)  // ln2 - high part
	p := value.Value(c(1.0 / 720))
	for _, k := range []float64{1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1, 1} {
		p = b.NewCall(fma, p, r, c(k))
	}
	ni := b.NewFPToSI(n, types.I32)
	bits := b.NewShl(b.NewAdd(ni, constant.NewInt(types.I32, 127)), constant.NewInt(types.I32, 23))
	scale := b.NewBitCast(bits, f32)
	y := value.Value(b.NewFMul(p, scale))
	y = b.NewSelect(b.NewFCmp(enum.FPredOLT, x, c(lo)), c(0), y)
	y = b.NewSelect(b.NewFCmp(enum.FPredOGT, x, c(hi)), c(math.Inf(1)), y)
	y = b.NewSelect(b.NewFCmp(enum.FPredUNO, x, x), x, y)
	b.NewRet(y)
	return fn
}

// bf16Func rounds a value to the nearest bfloat16 (ties to even), keeping
// it in the compute type: the top 16 bits of the float32 encoding, rounded.
func (g *gen) bf16Func() *ir.Func {
	if g.bf16F != nil {
		return g.bf16F
	}
	x := ir.NewParam("x", g.ft)
	fn := g.m.NewFunc("fm_bf16", g.ft, x)
	fn.Linkage = enum.LinkageInternal
	fn.FuncAttrs = append(fn.FuncAttrs, enum.FuncAttrAlwaysInline)
	b := fn.NewBlock("")
	var f value.Value = x
	if g.ft == types.Double {
		f = b.NewFPTrunc(x, types.Float)
	}
	i32 := func(v int64) *constant.Int { return constant.NewInt(types.I32, v) }
	bits := b.NewBitCast(f, types.I32)
	lsb := b.NewAnd(b.NewLShr(bits, i32(16)), i32(1))
	rounded := b.NewAnd(b.NewAdd(b.NewAdd(bits, i32(0x7fff)), lsb), i32(-65536))
	var y value.Value = b.NewBitCast(rounded, types.Float)
	if g.ft == types.Double {
		y = b.NewFPExt(y, types.Double)
	}
	y = b.NewSelect(b.NewFCmp(enum.FPredUNO, x, x), x, y)
	b.NewRet(y)
	g.bf16F = fn
	return fn
}

// RoundBF16 rounds v to the nearest bfloat16 value (ties to even), as the
// generated code does for stored tensors.
func RoundBF16(v float64) float64 {
	if math.IsNaN(v) {
		return v
	}
	bits := math.Float32bits(float32(v))
	bits = (bits + 0x7fff + (bits>>16)&1) &^ 0xffff
	return float64(math.Float32frombits(bits))
}

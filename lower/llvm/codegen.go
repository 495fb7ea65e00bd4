package llvm

import (
	"fmt"
	"math"
	"strings"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/tensor"
)

// Storage says how stored tensors are rounded.
type Storage int

const (
	// StorageNative stores every tensor in the compute type (Options.DType).
	StorageNative Storage = iota
	// StorageBF16 rounds every stored tensor (inputs included) to bfloat16,
	// round to nearest even, while arithmetic and accumulation stay in the
	// compute type.
	StorageBF16
)

// ParseStorage accepts "" or "native" (the compute type), and "bf16".
func ParseStorage(s string) (Storage, error) {
	switch strings.ToLower(s) {
	case "", "native", "f32", "f64":
		return StorageNative, nil
	case "bf16", "bfloat16":
		return StorageBF16, nil
	}
	return 0, fmt.Errorf("unknown storage %q (want bf16, or native for the compute type)", s)
}

func (s Storage) String() string {
	if s == StorageBF16 {
		return "bf16"
	}
	return "native"
}

// Options control code generation and execution.
type Options struct {
	// DType is the compute type, tensor.F32 or tensor.F64. The zero value
	// is F64, as in the interpreter's Options; the CLI defaults to f32.
	DType   tensor.DType
	Storage Storage
	// CountAccesses instruments the code to count element reads and writes
	// per tensor (Result.Counts). It disables views, which would hide a copy.
	CountAccesses bool
	// Tile sets the tile size of the rank hoisted around an iterate block
	// (by rank name); 0 or a size at least the rank's disables it. Unset
	// ranks use 64. NoTile disables hoisting altogether.
	Tile   map[string]int64
	NoTile bool
	// MapTile, when not nil, is a mapping's tiling to follow exactly, in
	// place of Tile and NoTile: a rank with a tile below its size is split
	// into groups of that size and the group loop is the outermost loop
	// around the cascade's iterate block, as the mapping's group loop is
	// outside its iterate loop. Generate fails when the code cannot run
	// that schedule; a rank whose tile is its size is not tiled.
	MapTile map[string]int64
	// Threads, above 1, splits the tiles of the hoisted rank among that
	// many workers (see threads.go); results are identical to one.
	Threads int
	// Reps runs the kernel this many times (at least once) and reports the
	// fastest run in Result.Seconds; benchmarks use it.
	Reps int
	// KeepDir, when set, keeps the build files (IR, assembly, driver) there
	// instead of a removed temporary directory.
	KeepDir string
}

// Module is a cascade lowered to LLVM IR at one shape.
type Module struct {
	IR      *ir.Module
	Func    string // the kernel function's name
	Cascade *einsum.Cascade
	Sizes   map[string]int64
	// Params are the function's tensor arguments in order: inputs, then
	// outputs. With CountAccesses a last i64* argument receives, for the
	// i-th tensor of Cascade.Tensors, the fields of its Access at 4i..4i+3.
	Params []*einsum.Tensor
	// MaskParams, with Threads > 1, are the partly defined outputs whose
	// byte masks (one byte per element of the output's storage, MaskElems)
	// follow Params as i8* arguments: the workers share them as they share
	// the outputs' values, so the caller provides them.
	MaskParams []*einsum.Tensor
	Opts       Options
	// Threads is how many workers the kernel runs on: Options.Threads, or
	// 1 when the cascade cannot be split (SingleThreadWhy says why).
	Threads         int
	SingleThreadWhy string
	// WorkBytes is the memory of the intermediates (values and masks), all
	// threads' copies together.
	WorkBytes int64
	plan      *plan
	// phases: the module also has Func_init and Func_check (outputPhases),
	// which the driver calls before and after the threads.
	phases bool
}

// String is the module's LLVM IR text.
func (m *Module) String() string { return m.IR.String() }

// Generate lowers c at the given sizes (as returned by c.Bind) to LLVM IR.
func Generate(c *einsum.Cascade, sizes map[string]int64, opts Options) (*Module, error) {
	for _, r := range c.Ranks {
		if _, ok := sizes[r.Name]; !ok {
			return nil, fmt.Errorf("cascade %s: no size for rank %s", c.Name, r.Name)
		}
	}
	p, err := newPlan(c, sizes, opts)
	if err != nil {
		return nil, err
	}
	g := &gen{p: p, opts: opts, m: ir.NewModule(), intr: map[string]*ir.Func{},
		vars: map[*einsum.Rank]value.Value{}, bounds: map[*einsum.Rank][2]value.Value{},
		base: map[*einsum.Tensor]value.Value{}, mask: map[*einsum.Tensor]value.Value{}}
	g.ft = types.Float
	if opts.DType == tensor.F64 {
		g.ft = types.Double
	}
	mod := &Module{IR: g.m, Func: "fusemax_" + sanitize(c.Name), Cascade: c, Sizes: sizes, Opts: opts, plan: p}
	mod.Params = append(append(mod.Params, c.Inputs...), c.Outputs...)
	mod.Threads, mod.SingleThreadWhy = int(p.copies()), p.singleWhy
	for _, t := range c.Outputs {
		if g.sharedMask(t) {
			mod.MaskParams = append(mod.MaskParams, t)
		}
	}
	mod.WorkBytes = g.build(mod)
	return mod, nil
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

type gen struct {
	p    *plan
	opts Options
	m    *ir.Module
	f    *ir.Func
	b    *ir.Block // where code goes next
	ft   *types.FloatType
	intr map[string]*ir.Func

	vars map[*einsum.Rank]value.Value // i64 value of each variable in scope
	// tid and next are the thread arguments (nil with one thread): the
	// thread's number and the i64* tile counter the threads share.
	tid, next value.Value
	// stepVar is the iterate variable a sunk copy runs at (its one step).
	stepVar *einsum.Rank
	bounds  map[*einsum.Rank][2]value.Value   // [lo, hi) of a hoisted rank inside its tile
	base    map[*einsum.Tensor]value.Value    // element pointer of each tensor
	mask    map[*einsum.Tensor]value.Value    // i8 pointer of each tracked tensor
	counts  value.Value                       // i64* when counting
	stamps  map[*einsum.Tensor][2]value.Value // i32* per tensor: the tile each element was last read, written in
	epoch   value.Value                       // i32*: the current tile, counting from 1
	allocs  []*ir.InstAlloca                  // accumulators, hoisted to the entry block
	expF    *ir.Func
	bf16F   *ir.Func
}

func i64(v int64) *constant.Int { return constant.NewInt(types.I64, v) }

func (g *gen) fconst(v float64) *constant.Float {
	if g.ft == types.Float {
		v = float64(float32(v))
	}
	return constant.NewFloat(g.ft, v)
}

func (g *gen) build(mod *Module) int64 {
	c := g.p.c
	params := g.tensorParams(mod)
	if g.opts.CountAccesses {
		prm := ir.NewParam("counts", types.NewPointer(types.I64))
		prm.Attrs = append(prm.Attrs, enum.ParamAttrNoAlias)
		params = append(params, prm)
		g.counts = prm
	}
	if g.p.threads > 1 {
		tid, next := ir.NewParam("thread", types.I64), ir.NewParam("next_tile", types.NewPointer(types.I64))
		params = append(params, tid, next)
		g.tid, g.next = tid, next
	}
	g.f = g.m.NewFunc(mod.Func, types.Void, params...)
	entry := g.f.NewBlock("entry")
	g.b = entry
	var work int64
	elemBytes := int64(4)
	if g.ft == types.Double {
		elemBytes = 8
	}
	// Intermediates and masks are internal globals: zero pages cost nothing
	// until touched, and distinct globals are known not to alias. Only a
	// mask the workers share is an argument (sharedMask).
	for _, t := range c.Tensors {
		s := g.p.store[t]
		if t.Kind == einsum.Intermediate && s.viewOf == nil {
			arr := types.NewArray(uint64(s.elems*g.p.copies()), g.ft)
			gl := g.m.NewGlobalDef("t."+sanitize(t.Name), constant.NewZeroInitializer(arr))
			gl.Linkage = enum.LinkageInternal
			gl.Align = ir.Align(64)
			g.base[t] = g.threadBase(constant.NewGetElementPtr(arr, gl, i64(0), i64(0)), s.elems)
			work += s.elems * elemBytes * g.p.copies()
		}
		if s.tracked && g.sharedMask(t) {
			work += s.elems
		} else if s.tracked {
			copies := g.p.copies()
			arr := types.NewArray(uint64(s.elems*copies), types.I8)
			gl := g.m.NewGlobalDef("m."+sanitize(t.Name), constant.NewZeroInitializer(arr))
			gl.Linkage = enum.LinkageInternal
			gl.Align = ir.Align(64)
			g.mask[t] = constant.NewGetElementPtr(arr, gl, i64(0), i64(0))
			if copies > 1 {
				g.mask[t] = g.threadBase(g.mask[t], s.elems)
			}
			work += s.elems * copies
		}
	}
	for _, t := range c.Tensors {
		if v := g.p.store[t].viewOf; v != nil {
			g.base[t] = g.base[v.t]
		}
	}
	if g.counts != nil {
		g.stampInit()
	}
	// Every call starts from nothing defined. With threads, an output's
	// mask and values are shared and cleared and checked once, by the
	// phase functions the driver calls around the threads (outputPhases).
	g.clearMasks(true, g.p.threads <= 1)
	if t, ok := g.p.tiles[nil]; ok {
		g.tiled(t, func() { g.einsums(c.Einsums) })
	} else {
		g.einsums(c.Einsums)
	}
	if g.p.threads <= 1 {
		g.checkOutputs()
	}
	g.b.NewRet(nil)
	g.hoistAllocas(entry)
	mod.phases = g.outputPhases(mod)
	return work
}

// tensorParams are the kernel's tensor arguments (Module.Params), bound
// as the tensors' bases.
func (g *gen) tensorParams(mod *Module) []*ir.Param {
	var params []*ir.Param
	for _, t := range mod.Params {
		prm := ir.NewParam(sanitize(t.Name), types.NewPointer(g.ft))
		prm.Attrs = append(prm.Attrs, enum.ParamAttrNoAlias)
		if t.Kind == einsum.Input {
			prm.Attrs = append(prm.Attrs, enum.ParamAttrReadOnly)
		}
		params = append(params, prm)
		g.base[t] = prm
	}
	for _, t := range mod.MaskParams {
		prm := ir.NewParam("mask."+sanitize(t.Name), types.I8Ptr)
		prm.Attrs = append(prm.Attrs, enum.ParamAttrNoAlias)
		params = append(params, prm)
		g.mask[t] = prm
	}
	return params
}

// sharedMask is whether t's mask is a kernel argument (Module.MaskParams):
// a partly defined output's, with several workers, each of which marks the
// points of its own tiles.
func (g *gen) sharedMask(t *einsum.Tensor) bool {
	return g.p.threads > 1 && t.Kind == einsum.Output && g.p.store[t].tracked
}

// MaskElems is the number of bytes of t's mask argument (MaskParams).
func (m *Module) MaskElems(t *einsum.Tensor) int64 { return m.plan.store[t].elems }

// hoistAllocas puts the function's allocas first in its entry block, so
// that mem2reg promotes them.
func (g *gen) hoistAllocas(entry *ir.Block) {
	insts := make([]ir.Instruction, 0, len(g.allocs)+len(entry.Insts))
	for _, a := range g.allocs {
		insts = append(insts, a)
	}
	entry.Insts = append(insts, entry.Insts...)
	g.allocs = nil
}

// clearMasks marks tracked tensors undefined: the intermediates' masks
// when inter, the outputs' masks and values when outs (points no statement
// defines read as NaN, as in the interpreter).
func (g *gen) clearMasks(inter, outs bool) {
	for _, t := range g.p.c.Tensors {
		m := g.mask[t]
		if m == nil || (t.Kind == einsum.Output && !outs) || (t.Kind != einsum.Output && !inter) {
			continue
		}
		s := g.p.store[t]
		g.memset(m, 0, s.elems)
		if t.Kind == einsum.Output {
			g.loop(i64(0), i64(s.elems), 1, func(i value.Value) {
				g.b.NewStore(g.fconst(math.NaN()), g.gep(g.base[t], i))
			})
		}
	}
}

// einsums emits a run of Einsums in order, turning each iterate block into
// a loop (inside a tile loop when a rank is hoisted around it).
func (g *gen) einsums(es []*einsum.Einsum) {
	for i := 0; i < len(es); {
		e := es[i]
		if e.Loop == nil {
			if g.p.sunkIn[e] == nil && !g.p.moved[e] {
				g.einsum(e)
			}
			i++
			continue
		}
		l := e.Loop
		j := i
		for j < len(es) && es[j].Loop == l {
			j++
		}
		g.iterate(l, es[i:j])
		i = j
	}
}

func (g *gen) iterate(l *einsum.Loop, body []*einsum.Einsum) {
	run := func() {
		n := g.p.size(l.Var)
		g.loopWhile(i64(0), i64(n), func(v value.Value) value.Value {
			g.vars[l.Var] = v
			return g.b.NewXor(g.cond(l.Until), constant.True)
		}, func(v value.Value) {
			g.vars[l.Var] = v
			g.clearSlots(l, v)
			g.stepVar = l.Var
			for _, e := range g.p.sunk[l] {
				g.einsum(e)
			}
			g.stepVar = nil
			for _, e := range body {
				g.einsum(e)
			}
		})
		delete(g.vars, l.Var)
	}
	t, ok := g.p.tiles[l]
	if !ok {
		run()
		return
	}
	g.tiled(t, func() {
		for _, e := range g.p.tilePre[l] {
			g.einsum(e)
		}
		run()
		for _, e := range g.p.tilePost[l] {
			g.einsum(e)
		}
	})
}

// tiled runs body once per tile of t's rank, with that rank's loops bound
// to the tile.
func (g *gen) tiled(t tiling, body func()) {
	n := g.p.size(t.rank)
	g.tileLoop(n, t.size, func(lo value.Value) {
		hi := value.Value(g.b.NewAdd(lo, i64(t.size)))
		if n%t.size != 0 {
			hi = g.b.NewSelect(g.b.NewICmp(enum.IPredSLT, hi, i64(n)), hi, i64(n))
		}
		g.bounds[t.rank] = [2]value.Value{lo, hi}
		g.nextTile()
		body()
		delete(g.bounds, t.rank)
	})
	// What follows the tile loop reads the final state once, as what
	// precedes it is read before the first tile.
	g.nextTile()
}

func (g *gen) rangeOf(r *einsum.Rank) (lo, hi value.Value) {
	if b, ok := g.bounds[r]; ok {
		return b[0], b[1]
	}
	return i64(0), i64(g.p.size(r))
}

// nest emits loops over vars, outermost first, and calls body innermost.
func (g *gen) nest(vars []*einsum.Rank, body func()) {
	if len(vars) == 0 {
		body()
		return
	}
	if vars[0] == g.stepVar {
		g.nest(vars[1:], body)
		return
	}
	lo, hi := g.rangeOf(vars[0])
	g.loop(lo, hi, 1, func(i value.Value) {
		g.vars[vars[0]] = i
		g.nest(vars[1:], body)
	})
	delete(g.vars, vars[0])
}

func (g *gen) einsum(e *einsum.Einsum) {
	if g.p.skip[e] {
		return
	}
	out := e.OutputVars()
	switch {
	case e.TopK != nil:
		g.topK(e)
	case len(e.Reductions) == 0:
		g.nest(out, func() {
			g.guard(g.filters(e), func() {
				v, def := g.expr(e.Expr)
				g.guard(def, func() { g.store(e.Output, v) })
			})
		})
	case g.p.scalar[e]:
		g.nest(out, func() { g.scalarReduce(e) })
	default:
		g.accumulate(e)
	}
}

// accumulate runs a reduction with its output as the accumulator: the
// output is set to the identity, then the reduced loops run inside the
// output loops but outside the innermost one, which therefore streams along
// the output's contiguous dimension and vectorises, without reassociating
// any sum (each output point still sees its terms in order).
func (g *gen) accumulate(e *einsum.Einsum) {
	out := e.OutputVars()
	op := e.Reductions[0].Op
	g.nest(out, func() {
		g.guard(g.filters(e), func() {
			g.store(e.Output, g.fconst(op.Identity()))
		})
	})
	if w := g.vectorWidth(e); w > 0 {
		g.accumulateVec(e, w)
		return
	}
	var order []*einsum.Rank
	if len(out) > 0 {
		order = append(append(append(order, out[:len(out)-1]...), e.ReducedVars()...), out[len(out)-1])
	} else {
		order = e.ReducedVars()
	}
	g.nest(order, func() {
		g.guard(g.filters(e), func() {
			v, def := g.expr(e.Expr)
			g.guard(def, func() {
				ptr := g.elemPtr(e.Output)
				acc := g.b.NewLoad(g.ft, ptr)
				g.b.NewStore(g.combine(op, acc, v), ptr)
			})
		})
	})
}

// scalarReduce computes one output point of a reduction in registers,
// group by group (outermost first): an inner group with no contributing
// point contributes nothing to the one around it, and the output point is
// defined when the filters admit any point, as the interpreter specifies.
func (g *gen) scalarReduce(e *einsum.Einsum) {
	admitted := g.alloca(types.I1)
	g.b.NewStore(constant.False, admitted)
	var level func(k int) (acc, any value.Value)
	level = func(k int) (value.Value, value.Value) {
		red := e.Reductions[k]
		acc, any := g.alloca(g.ft), g.alloca(types.I1)
		g.b.NewStore(g.fconst(red.Op.Identity()), acc)
		g.b.NewStore(constant.False, any)
		g.nest(red.Vars, func() {
			if k == len(e.Reductions)-1 {
				g.guard(g.filters(e), func() {
					g.b.NewStore(constant.True, admitted)
					v, def := g.expr(e.Expr)
					g.guard(def, func() {
						g.b.NewStore(g.combine(red.Op, g.b.NewLoad(g.ft, acc), v), acc)
						g.b.NewStore(constant.True, any)
					})
				})
				return
			}
			iacc, iany := level(k + 1)
			g.guard(g.b.NewLoad(types.I1, iany), func() {
				g.b.NewStore(g.combine(red.Op, g.b.NewLoad(g.ft, acc), g.b.NewLoad(g.ft, iacc)), acc)
				g.b.NewStore(constant.True, any)
			})
		})
		return acc, any
	}
	acc, _ := level(0)
	var def value.Value
	if len(e.Filters) > 0 {
		def = g.b.NewLoad(types.I1, admitted)
	}
	g.guard(def, func() { g.store(e.Output, g.b.NewLoad(g.ft, acc)) })
}

func (g *gen) alloca(t types.Type) value.Value {
	a := ir.NewAlloca(t)
	g.allocs = append(g.allocs, a)
	return a
}

func (g *gen) combine(op einsum.ReduceOp, acc, v value.Value) value.Value {
	switch op {
	case einsum.Max:
		return g.maxmin(enum.FPredOGT, acc, v)
	case einsum.Min:
		return g.maxmin(enum.FPredOLT, acc, v)
	}
	return g.b.NewFAdd(acc, v)
}

// guard runs body only where cond holds; a nil cond always holds.
func (g *gen) guard(cond value.Value, body func()) {
	if cond == nil {
		body()
		return
	}
	then, done := g.f.NewBlock(""), g.f.NewBlock("")
	g.b.NewCondBr(cond, then, done)
	g.b = then
	body()
	g.b.NewBr(done)
	g.b = done
}

func (g *gen) filters(e *einsum.Einsum) value.Value {
	var all value.Value
	for _, f := range e.Filters {
		if f.Data != nil {
			continue
		}
		c := g.cond(f)
		if all == nil {
			all = c
		} else {
			all = g.b.NewAnd(all, c)
		}
	}
	return g.dataFilters(e, all)
}

func (g *gen) cond(c einsum.Cond) value.Value {
	pred := [...]enum.IPred{enum.IPredEQ, enum.IPredNE, enum.IPredSLT, enum.IPredSLE, enum.IPredSGT, enum.IPredSGE}[c.Op]
	return g.b.NewICmp(pred, g.affine(c.L), g.affine(c.R))
}

func (g *gen) affine(a einsum.Affine) value.Value {
	var v value.Value = i64(g.p.eval(a.Const))
	for _, t := range a.Terms {
		x := g.vars[t.Var]
		if x == nil {
			panic(fmt.Sprintf("llvm: variable %s not in scope", t.Var.Var()))
		}
		if k := g.p.eval(t.Coef); k != 1 {
			x = nsw(g.b.NewMul(x, i64(k)))
		}
		v = nsw(g.b.NewAdd(v, x))
	}
	return v
}

func nsw[T interface {
	*ir.InstAdd | *ir.InstMul
}](i T) value.Value {
	switch i := any(i).(type) {
	case *ir.InstAdd:
		i.OverflowFlags = []enum.OverflowFlag{enum.OverflowFlagNSW}
		return i
	case *ir.InstMul:
		i.OverflowFlags = []enum.OverflowFlag{enum.OverflowFlagNSW}
		return i
	}
	return nil
}

// offset is the flat element offset of an access in its tensor's storage.
func (g *gen) offset(a *einsum.Access) value.Value {
	s := g.p.store[a.Tensor]
	if s.viewOf != nil {
		s = &storage{strides: s.strides, ring: s.ring, tileRank: s.tileRank, tileDim: s.tileDim}
	}
	var off value.Value = i64(0)
	for d, x := range a.Index {
		if s.ring[d] == 1 {
			continue
		}
		v := g.affine(x)
		if s.tileRank != nil && d == s.tileDim {
			v = g.b.NewSub(v, g.bounds[s.tileRank][0])
		}
		if k := s.ring[d]; k > 1 {
			v = g.b.NewURem(v, i64(k))
		}
		if s.strides[d] != 1 {
			v = nsw(g.b.NewMul(v, i64(s.strides[d])))
		}
		off = nsw(g.b.NewAdd(off, v))
	}
	return off
}

func (g *gen) gep(base, off value.Value) value.Value {
	elem := base.Type().(*types.PointerType).ElemType
	p := g.b.NewGetElementPtr(elem, base, off)
	p.InBounds = true
	return p
}

func (g *gen) elemPtr(a *einsum.Access) value.Value {
	return g.gep(g.base[a.Tensor], g.offset(a))
}

// count adds one access of a to the counters: to reads or writes, and to
// tile reads or tile writes when the element was not yet so accessed in the
// current tile.
func (g *gen) count(a *einsum.Access, write bool) {
	if g.counts == nil {
		return
	}
	w := int64(0)
	if write {
		w = 1
	}
	k := int64(4*g.p.store[a.Tensor].index) + w
	g.increment(k)
	st := g.gep(g.stamps[a.Tensor][w], g.logicalOffset(a))
	ep := g.b.NewLoad(types.I32, g.epoch)
	g.guard(g.b.NewICmp(enum.IPredNE, g.b.NewLoad(types.I32, st), ep), func() {
		g.b.NewStore(ep, st)
		g.increment(k + 2)
	})
}

func (g *gen) increment(k int64) {
	p := g.gep(g.counts, i64(k))
	g.b.NewStore(g.b.NewAdd(g.b.NewLoad(types.I64, p), i64(1)), p)
}

// stampInit makes the stamp arrays of every tensor, indexed by the
// element's position in the whole tensor (a ring's slots are reused, so
// stamps cannot follow storage), and starts each call at tile 1 with every
// stamp 0.
func (g *gen) stampInit() {
	g.stamps = map[*einsum.Tensor][2]value.Value{}
	for _, t := range g.p.c.Tensors {
		s := g.p.store[t]
		var pair [2]value.Value
		for w, kind := range []string{"r", "w"} {
			arr := types.NewArray(uint64(s.logicalElems), types.I32)
			gl := g.m.NewGlobalDef("s."+kind+"."+sanitize(t.Name), constant.NewZeroInitializer(arr))
			gl.Linkage = enum.LinkageInternal
			gl.Align = ir.Align(64)
			base := constant.NewGetElementPtr(arr, gl, i64(0), i64(0))
			g.memset(constant.NewBitCast(base, types.I8Ptr), 0, 4*s.logicalElems)
			pair[w] = base
		}
		g.stamps[t] = pair
	}
	g.epoch = g.alloca(types.I32)
	g.b.NewStore(constant.NewInt(types.I32, 1), g.epoch)
}

// nextTile starts a new tile for the tile counters.
func (g *gen) nextTile() {
	if g.counts == nil {
		return
	}
	g.b.NewStore(g.b.NewAdd(g.b.NewLoad(types.I32, g.epoch), constant.NewInt(types.I32, 1)), g.epoch)
}

// logicalOffset is the row-major position of an access in the whole
// tensor, ignoring rings and views.
func (g *gen) logicalOffset(a *einsum.Access) value.Value {
	s := g.p.store[a.Tensor]
	var off value.Value = i64(0)
	for d, x := range a.Index {
		v := g.affine(x)
		if s.logicalStrides[d] != 1 {
			v = nsw(g.b.NewMul(v, i64(s.logicalStrides[d])))
		}
		off = nsw(g.b.NewAdd(off, v))
	}
	return off
}

// store writes v to an output point, rounding to the storage type and
// marking the point defined.
func (g *gen) store(a *einsum.Access, v value.Value) {
	if g.opts.Storage == StorageBF16 {
		v = g.b.NewCall(g.bf16Func(), v)
	}
	off := g.offset(a)
	g.b.NewStore(v, g.gep(g.base[a.Tensor], off))
	if m := g.mask[a.Tensor]; m != nil {
		g.b.NewStore(constant.NewInt(types.I8, 1), g.gep(m, off))
	}
	g.count(a, true)
}

// expr evaluates x at the current point. def is nil when every read is
// defined everywhere, else an i1 that holds where all reads are defined.
func (g *gen) expr(x einsum.Expr) (v, def value.Value) {
	switch x := x.(type) {
	case *einsum.Const:
		return g.fconst(x.Value), nil
	case *einsum.SizeValue:
		return g.fconst(float64(g.p.size(x.Rank))), nil
	case *einsum.IndexValue:
		return g.b.NewSIToFP(g.vars[x.Rank], g.ft), nil
	case *einsum.Read:
		g.checkRead(x.Access)
		off := g.offset(x.Access)
		v = g.b.NewLoad(g.ft, g.gep(g.base[x.Access.Tensor], off))
		g.count(x.Access, false)
		if m := g.mask[x.Access.Tensor]; m != nil {
			def = g.b.NewICmp(enum.IPredNE, g.b.NewLoad(types.I8, g.gep(m, off)), constant.NewInt(types.I8, 0))
		}
		return v, def
	case *einsum.Unary:
		a, def := g.expr(x.X)
		return g.unary(x.Op, a), def
	case *einsum.Binary:
		a, d1 := g.expr(x.X)
		b, d2 := g.expr(x.Y)
		return g.binary(x.Op, a, b), g.and(d1, d2)
	}
	panic(fmt.Sprintf("llvm: unknown expression %T", x))
}

func (g *gen) and(a, b value.Value) value.Value {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return g.b.NewAnd(a, b)
}

func (g *gen) unary(op einsum.UnaryOp, x value.Value) value.Value {
	switch op {
	case einsum.Neg:
		return g.b.NewFNeg(x)
	case einsum.Exp:
		return g.exp(x)
	case einsum.Log:
		return g.call("llvm.log", x)
	case einsum.Sqrt:
		return g.call("llvm.sqrt", x)
	case einsum.Abs:
		return g.call("llvm.fabs", x)
	case einsum.Relu:
		return g.b.NewSelect(g.b.NewFCmp(enum.FPredOGT, x, g.fconst(0)), x, g.fconst(0))
	case einsum.Sigmoid:
		return g.b.NewFDiv(g.fconst(1), g.b.NewFAdd(g.fconst(1), g.exp(g.b.NewFNeg(x))))
	}
	if v, ok := g.mathUnary(op, x); ok {
		return v
	}
	panic(fmt.Sprintf("llvm: unknown function %s", op))
}

func (g *gen) binary(op einsum.BinaryOp, x, y value.Value) value.Value {
	switch op {
	case einsum.Add:
		return g.b.NewFAdd(x, y)
	case einsum.Sub:
		return g.difference(x, y)
	case einsum.Mul:
		return g.b.NewFMul(x, y)
	case einsum.Div:
		return g.b.NewFDiv(x, y)
	case einsum.MaxOf:
		return g.maxmin(enum.FPredOGT, x, y)
	case einsum.MinOf:
		return g.maxmin(enum.FPredOLT, x, y)
	default:
		return g.pow(x, y)
	}
}

// maxmin is max (OGT) or min (OLT) where a NaN operand wins, as in Go's
// math.Max. It is built from compares and selects, which vectorise, because
// LLVM 14's x86 backend cannot select llvm.maximum. Unlike math.Max it does
// not order -0 below +0.
func (g *gen) maxmin(pred enum.FPred, x, y value.Value) value.Value {
	m := g.b.NewSelect(g.b.NewFCmp(pred, x, y), x, y)
	return g.b.NewSelect(g.b.NewFCmp(enum.FPredUNO, x, y), g.b.NewFAdd(x, y), m)
}

// call calls an overloaded floating-point intrinsic (llvm.NAME.f32/f64).
func (g *gen) call(name string, args ...value.Value) value.Value {
	return g.b.NewCall(g.intrinsic(name+"."+suffix(g.ft), g.ft, len(args)), args...)
}

func suffix(t *types.FloatType) string {
	if t == types.Double {
		return "f64"
	}
	return "f32"
}

func (g *gen) intrinsic(name string, t types.Type, n int) *ir.Func {
	if f, ok := g.intr[name]; ok {
		return f
	}
	var ps []*ir.Param
	for i := 0; i < n; i++ {
		ps = append(ps, ir.NewParam("", t))
	}
	f := g.m.NewFunc(name, t, ps...)
	g.intr[name] = f
	return f
}

func (g *gen) memset(ptr value.Value, v byte, n int64) {
	f, ok := g.intr["llvm.memset.p0i8.i64"]
	if !ok {
		f = g.m.NewFunc("llvm.memset.p0i8.i64", types.Void,
			ir.NewParam("", types.I8Ptr), ir.NewParam("", types.I8), ir.NewParam("", types.I64), ir.NewParam("", types.I1))
		g.intr["llvm.memset.p0i8.i64"] = f
	}
	g.b.NewCall(f, ptr, constant.NewInt(types.I8, int64(v)), i64(n), constant.False)
}

// loop emits for (i = lo; i < hi; i += step) body(i).
func (g *gen) loop(lo, hi value.Value, step int64, body func(i value.Value)) {
	g.loopWhile(lo, hi, nil, body, step)
}

// loopWhile emits a counted loop that also stops as soon as more(i) is
// false (checked before each step when more is not nil).
func (g *gen) loopWhile(lo, hi value.Value, more func(i value.Value) value.Value, body func(i value.Value), step ...int64) {
	st := int64(1)
	if len(step) > 0 {
		st = step[0]
	}
	pre := g.b
	hdr, bodyB, exit := g.f.NewBlock(""), g.f.NewBlock(""), g.f.NewBlock("")
	pre.NewBr(hdr)
	g.b = hdr
	phi := hdr.NewPhi(ir.NewIncoming(lo, pre))
	var cond value.Value = hdr.NewICmp(enum.IPredSLT, phi, hi)
	if more != nil {
		test := g.f.NewBlock("")
		hdr.NewCondBr(cond, test, exit)
		g.b = test
		cond = more(phi)
		g.b.NewCondBr(cond, bodyB, exit)
	} else {
		hdr.NewCondBr(cond, bodyB, exit)
	}
	g.b = bodyB
	body(phi)
	next := nsw(g.b.NewAdd(phi, i64(st)))
	phi.Incs = append(phi.Incs, ir.NewIncoming(next, g.b))
	g.b.NewBr(hdr)
	g.b = exit
}

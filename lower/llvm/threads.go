package llvm

import (
	"fmt"

	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"

	"github.com/fusemax/fusemax/einsum"
)

// Threads: with Options.Threads = N > 1 the kernel takes two more
// arguments, a worker number t < N and a pointer to a tile counter the N
// workers share (zero at the start), and runs the tiles of the hoisted rank
// it claims from the counter (tileLoop). Every intermediate is
// private to a worker (N copies, each worker using its own), so workers
// share only the inputs, which they read, and the outputs, of which each
// writes its own tiles. A tile's values do not depend on which worker runs
// it, so results are identical to one worker, bit for bit. The kernel is
// safe on N threads of one process; the driver runs N processes sharing
// the buffers (run.go says why). A partly defined output's mask is shared
// like its values, an argument (Module.MaskParams); clearing it and
// checking it run once (outputPhases).

// planThreads decides whether the cascade can run on several threads: one
// tiled iterate block, and every statement inside its tile loop (moved
// into it, copied per step, or a view that runs nowhere), so that nothing
// runs once over the whole rank. It returns why not, or "".
func (p *plan) planThreads(opts Options) string {
	if opts.Threads <= 1 {
		return ""
	}
	if opts.CountAccesses {
		return "--count-accesses counts in one thread"
	}
	if len(p.tiles) != 1 {
		return fmt.Sprintf("cascade %s has %d tiled iterate blocks and no rank all its statements split along; workers split the tiles of exactly one", p.c.Name, len(p.tiles))
	}
	var t tiling
	for _, x := range p.tiles {
		t = x
	}
	seen := false // a statement of the tile loop came before
	for _, e := range p.c.Einsums {
		inLoop := e.Loop == t.loop || p.moved[e] || p.sunkIn[e] != nil || p.skip[e]
		seen = seen || inLoop && e.Loop != nil
		if !inLoop && (seen || !perWorker(e, t.rank)) {
			return fmt.Sprintf("%s runs once over the whole of %s, outside the tile loop", e.Pos, t.rank.Name)
		}
	}
	p.threads = int64(opts.Threads)
	return ""
}

// perWorker reports whether a statement before the tile loop may run on
// every worker instead of once: it writes an intermediate, which each
// worker keeps its own copy of, and does not loop over the hoisted rank r,
// so repeating it costs little (ALiBi's slopes SL[h], MoBA's block means
// MK[e, m1]).
func perWorker(e *einsum.Einsum, r *einsum.Rank) bool {
	if e.Output.Tensor.Kind != einsum.Intermediate {
		return false
	}
	for _, v := range e.Vars {
		if v.Root() == r {
			return false
		}
	}
	return true
}

// threadBase is the start of the calling thread's copy of an intermediate
// of elems elements at base.
func (g *gen) threadBase(base value.Value, elems int64) value.Value {
	if g.tid == nil {
		return base
	}
	return g.gep(base, g.b.NewMul(g.tid, i64(elems)))
}

// tileLoop runs body(lo) for every tile of the hoisted rank (n elements in
// tiles of size) on one thread. On several, each thread claims the next
// unclaimed tile from the shared counter until none is left, so a thread
// slowed by a busy core runs fewer tiles instead of finishing last.
func (g *gen) tileLoop(n, size int64, body func(lo value.Value)) {
	if g.tid == nil {
		g.loop(i64(0), i64(n), size, body)
		return
	}
	hdr, bodyB, exit := g.f.NewBlock(""), g.f.NewBlock(""), g.f.NewBlock("")
	g.b.NewBr(hdr)
	k := hdr.NewAtomicRMW(enum.AtomicOpAdd, g.next, i64(1), enum.AtomicOrderingMonotonic)
	hdr.NewCondBr(hdr.NewICmp(enum.IPredSLT, k, i64((n+size-1)/size)), bodyB, exit)
	g.b = bodyB
	body(nsw(g.b.NewMul(k, i64(size))))
	g.b.NewBr(hdr)
	g.b = exit
}

// outputPhases emits, for a kernel on several threads with a partly
// defined output, the two phases that touch all of such an output and so
// run once, on one thread: Func_init (clear its mask, fill its values with
// NaN) before the threads start, and Func_check (every point defined unless
// the output is declared partial) after they all finish. Both take the
// kernel's tensor arguments. It returns whether it emitted them.
func (g *gen) outputPhases(mod *Module) bool {
	if g.p.threads <= 1 {
		return false
	}
	shared := false
	for _, t := range g.p.c.Outputs {
		shared = shared || g.mask[t] != nil
	}
	if !shared {
		return false
	}
	g.phase(mod, "_init", func() { g.clearMasks(false, true) })
	g.phase(mod, "_check", g.checkOutputs)
	return true
}

// phase emits the function Func+suffix over the kernel's tensor arguments,
// its body emitted by body.
func (g *gen) phase(mod *Module, suffix string, body func()) {
	g.f = g.m.NewFunc(mod.Func+suffix, types.Void, g.tensorParams(mod)...)
	entry := g.f.NewBlock("entry")
	g.b = entry
	body()
	g.b.NewRet(nil)
	g.hoistAllocas(entry)
}

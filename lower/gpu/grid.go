package gpu

import (
	"container/heap"
	"math"
	"sort"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
)

// Occupancy is how many CTAs one SM holds at once, and why no more.
type Occupancy struct {
	CTAsPerSM     int64   `json:"ctas_per_sm"`
	LimitedBy     string  `json:"limited_by"`
	ThreadsPerCTA int64   `json:"threads_per_cta"`
	Registers     int64   `json:"registers_per_thread"` // a consumer thread's estimate
	RegisterLimit int64   `json:"register_limit"`
	SharedBytes   float64 `json:"shared_bytes_per_cta"`
	RegisterBytes float64 `json:"register_bytes_per_cta"`
}

// cta is one CTA's (or persistent tile's) share of the keys.
type cta struct {
	steps, partial int64
}

// limits on the work a shape may ask for before anything proportional to
// it is allocated.
const (
	maxMaskedTiles = 1 << 24 // (query block, key block) pairs classified one by one
	maxMaskedCTAs  = 1 << 22 // CTAs dispatched one by one when their work differs
	maxRounds      = 1 << 14 // distinct rounds of one SM simulated
)

// occupancy follows from registers, shared memory, threads and the SM's
// CTA limit.
func occupancy(sm *arch.SM, m *Mapping, w *work, t Tile, bytes float64) (Occupancy, error) {
	var o Occupancy
	groups, groupThreads := t.Warps, int64(32)
	if m.Consumer == "warpgroup" {
		if t.Warps%4 != 0 {
			return o, m.errorAt(m.tileAt(t, "warps"), false, "%d warps do not make whole warpgroups of 4 (consumer: warpgroup): give a multiple of 4", t.Warps)
		}
		groups, groupThreads = t.Warps/4, 128
	}
	if t.BlockM%groups != 0 {
		return o, m.errorAt(m.tileAt(t, "block_m"), false, "block_m=%d does not split evenly over %d consumers: give a multiple of %d", t.BlockM, groups, groups)
	}
	rows := float64(t.BlockM / groups)
	outW, inW := w.StoreRow/bytes, w.LoadRow/bytes
	regs := rows * (outW + float64(t.BlockN)) // fp32 accumulators: output and scores
	if m.QInRegisters {
		regs += rows * inW * bytes / 4
	}
	o.Registers = int64(math.Ceil(regs/float64(groupThreads))) + m.RegsReserved
	consumers := 32 * t.Warps
	o.ThreadsPerCTA = consumers
	file := int64(sm.RegisterFile / 4)
	ctaRegs := consumers * o.Registers
	o.RegisterLimit = min(sm.RegistersPerThrd, file/consumers)
	if m.WarpSpecial {
		o.ThreadsPerCTA += 128
		ctaRegs += 128 * m.ProducerRegs
		o.RegisterLimit = min(sm.RegistersPerThrd, file/o.ThreadsPerCTA)
		if sm.SetMaxNReg {
			o.RegisterLimit = min(sm.RegistersPerThrd, (file-128*m.ProducerRegs)/consumers/8*8)
		}
	}
	if o.Registers > o.RegisterLimit {
		return o, m.errorAt(m.tileAt(t, "block_n"), false, "a %d×%d tile needs about %d registers per consumer thread, more than the %d this CTA may hold; use a smaller block_n or block_m (--set mapping.block_n=...)", t.BlockM, t.BlockN, o.Registers, o.RegisterLimit)
	}
	if o.ThreadsPerCTA > sm.MaxThreads {
		return o, m.errorAt(m.tileAt(t, "warps"), false, "%d warps make %d threads per CTA, more than the SM's %d: give fewer warps", t.Warps, o.ThreadsPerCTA, sm.MaxThreads)
	}
	var streams float64
	for _, s := range w.Streams {
		streams += s.Bytes
	}
	o.SharedBytes = float64(t.BlockM)*w.LoadRow + float64(m.Stages)*streams
	o.RegisterBytes = float64(ctaRegs) * 4
	if o.SharedBytes > sm.SharedPerCTA {
		return o, m.errorAt(m.tileAt(t, "block_n"), false, "a %d×%d tile with %d stages keeps %.0f KiB in shared memory; one CTA may allocate %.0f KiB: use fewer stages or a smaller block_n or block_m", t.BlockM, t.BlockN, m.Stages, o.SharedBytes/1024, sm.SharedPerCTA/1024)
	}
	lim := []struct {
		n    int64
		what string
	}{
		{file / ctaRegs, "registers"},
		{int64(sm.SharedCapacity / o.SharedBytes), "shared memory"},
		{sm.MaxThreads / o.ThreadsPerCTA, "threads"},
		{sm.MaxCTAs, "CTA slots"},
	}
	o.CTAsPerSM, o.LimitedBy = lim[0].n, lim[0].what
	for _, l := range lim[1:] {
		if l.n < o.CTAsPerSM {
			o.CTAsPerSM, o.LimitedBy = l.n, l.what
		}
	}
	if m.Persistent {
		o.CTAsPerSM, o.LimitedBy = 1, "persistent schedule (one CTA per SM)"
	}
	return o, nil
}

// keySteps classifies every tile of one query block: how many key blocks
// it computes and how many of those are partly masked.
func keySteps(masked []*einsum.Einsum, q, blockVar, loopVar *einsum.Rank, qlo, qhi, kblocks, bn int64, sizes map[string]int64) cta {
	var c cta
	for j := int64(0); j < kblocks; j++ {
		b := box{q: {qlo, qhi}, blockVar: {0, bn - 1}, loopVar: {j, j}}
		switch classify(masked, b, sizes) {
		case tileFull:
			c.steps++
		case tilePartial:
			c.steps++
			c.partial++
		}
	}
	return c
}

// slotQueue is the CTA slots of the GPU ordered by when they free up.
type slotQueue struct {
	free []float64
	idx  []int
}

func (q slotQueue) Len() int { return len(q.idx) }
func (q slotQueue) Less(i, j int) bool {
	a, b := q.idx[i], q.idx[j]
	if q.free[a] != q.free[b] {
		return q.free[a] < q.free[b]
	}
	return a < b
}
func (q slotQueue) Swap(i, j int)   { q.idx[i], q.idx[j] = q.idx[j], q.idx[i] }
func (q *slotQueue) Push(x any)     { q.idx = append(q.idx, x.(int)) }
func (q *slotQueue) Pop() any       { n := len(q.idx); x := q.idx[n-1]; q.idx = q.idx[:n-1]; return x }
func (q *slotQueue) top() int       { return q.idx[0] }
func (q *slotQueue) bump(t float64) { q.free[q.idx[0]] = t; heap.Fix(q, 0) }

// assign places the CTAs (in launch order) on the SMs' slots and returns,
// for the SM that finishes last, each slot's CTAs in order. A dynamic
// grid goes to whichever slot frees first (the hardware block scheduler;
// slot s is SM s mod SMs, so a wave spreads over the SMs first); a
// persistent one deals tiles to SMs in turn. The estimate of a CTA's
// duration is its key steps plus one for its prologue and epilogue.
func assign(ctas []cta, sms, perSM int64, persistent bool) [][]cta {
	if persistent {
		order := append([]cta(nil), ctas...)
		// Longest tiles first, so the last wave is the shortest.
		sort.SliceStable(order, func(i, j int) bool { return order[i].steps > order[j].steps })
		load := make([]int64, sms)
		lists := make([][]cta, sms)
		for i, c := range order {
			s := int64(i) % sms
			lists[s] = append(lists[s], c)
			load[s] += c.steps + 1
		}
		best := 0
		for s := range load {
			if load[s] > load[best] {
				best = s
			}
		}
		return [][]cta{lists[best]}
	}
	n := int(sms * perSM)
	q := &slotQueue{free: make([]float64, n)}
	for i := 0; i < n; i++ {
		q.idx = append(q.idx, i)
	}
	heap.Init(q)
	lists := make([][]cta, n)
	for _, c := range ctas {
		s := q.top()
		lists[s] = append(lists[s], c)
		q.bump(q.free[s] + float64(c.steps+1))
	}
	end := make([]float64, sms)
	for s, t := range q.free {
		end[int64(s)%sms] = math.Max(end[int64(s)%sms], t)
	}
	best := int64(0)
	for s := range end {
		if end[s] > end[best] {
			best = int64(s)
		}
	}
	var out [][]cta
	for r := int64(0); r < perSM; r++ {
		out = append(out, lists[r*sms+best])
	}
	return out
}

// round is what one SM's CTA slots run at the same time, Count times in
// a row.
type round struct {
	Slots []cta
	Count int64
}

// uniform is the busiest SM's rounds when every CTA does the same work:
// it runs ceil(n / SMs) of them, its slots taking them in turn.
func uniform(n, sms, perSM int64, c cta) []round {
	mine := (n + sms - 1) / sms
	var out []round
	if full := mine / perSM; full > 0 {
		out = append(out, round{Slots: repeat(c, perSM), Count: full})
	}
	if rest := mine % perSM; rest > 0 {
		out = append(out, round{Slots: repeat(c, rest), Count: 1})
	}
	return out
}

// runs groups one slot's CTAs into rounds of alike consecutive CTAs.
func runs(list []cta) []round {
	var out []round
	for _, c := range list {
		if n := len(out); n > 0 && out[n-1].Slots[0] == c {
			out[n-1].Count++
			continue
		}
		out = append(out, round{Slots: []cta{c}, Count: 1})
	}
	return out
}

func repeat(c cta, n int64) []cta {
	out := make([]cta, n)
	for i := range out {
		out[i] = c
	}
	return out
}

package gpu

import (
	"math"
	"slices"
	"strings"

	"github.com/fusemax/fusemax/sim"
)

// The units of one SM's schedule, in report order.
const (
	uTensor = iota
	uFMA
	uSFU
	uSmem
	uL2
	uHBM
)

// hbmWindow is how many of a stream's tiles an SM may have outstanding
// from HBM: a tile's L2 load waits for the HBM share of the tile this many
// steps back. Without a bound, an SM whose share of HBM binds runs ahead of
// it without limit and the key loop's state never repeats, so the engine
// simulates every step (a 64K-key run took seconds instead of
// milliseconds). At 4 and above no published row's prediction changes
// (checked at 4, 8 and 16); at 1 or 2 the worst row moves by up to 5 points.
const hbmWindow = 4

var unitNames = []string{"tensor", "fma", "sfu", "smem", "l2", "hbm"}

// rates are what one SM's units do per clock, bandwidths being this SM's
// share of the GPU's.
type rates struct {
	mma, fma, sfu, smem, l2, hbm float64
	l2Lat, hbmLat                float64
	contention                   float64
	miss                         map[string]float64 // per stream: the share of its bytes that come from HBM
}

// chainSpec is one consumer: a CTA's warps in lockstep, or one
// warpgroup of a ping-pong pair.
type chainSpec struct {
	rows float64
	// readers is how many thread groups of the chain read each streamed
	// tile from shared memory: every warp (mma.sync) or warpgroup (wgmma)
	// reads the whole key block.
	readers float64
}

// builder assembles the schedule of the busiest SM.
type builder struct {
	w        *work
	m        *Mapping
	r        rates
	bm       float64
	chains   []chainSpec // per CTA
	selectPt float64     // mask work per row of a partly masked step (FMA results)
	sched    *sim.Schedule
}

// ctaOps are the operations of one CTA in one round, for the
// dependencies of the next round.
type ctaOps struct {
	qload, start *sim.Op // start: what the next CTA of the slot waits for
	store        *sim.Op
	lastUse      *sim.Op // the last product of the last segment: after it, the tile's buffers are free
	// hbm are the CTA's HBM transfers: nothing waits for one, but the CTA
	// ends only when all are done, so HBM throughput binds with a CTA's
	// slack while a single load's latency is the L2's (other SMs' bursts
	// interleave with this one's).
	hbm []*sim.Op
}

func (b *builder) op(name, einsum string, unit int, cycles float64) *sim.Op {
	return &sim.Op{Name: name, Einsum: einsum, Unit: unit, Cycles: cycles, PEFrac: 1}
}

func items(ops []*sim.Op) []sim.Item {
	out := make([]sim.Item, len(ops))
	for i, o := range ops {
		out[i] = o
	}
	return out
}

func dep(o *sim.Op, l *sim.Loop, back int) sim.Dep { return sim.Dep{Op: o, Loop: l, Back: back} }

// program builds the whole schedule: one loop per group of equal rounds.
func (b *builder) program(rounds []round) *sim.Schedule {
	root := &sim.Loop{Name: "sm", Count: 1}
	b.sched.Root = root
	var prev []ctaOps
	for _, rd := range rounds {
		l := &sim.Loop{Name: "rounds", Count: rd.Count}
		root.Body = append(root.Body, l)
		cur := b.round(l, rd)
		for s, c := range cur {
			// The slot's next CTA waits for this one: in the next round of
			// this group, or the first round of the next group.
			c.qload.Deps = append(c.qload.Deps, dep(c.start, l, 1))
			if s < len(prev) {
				c.qload.Deps = append(c.qload.Deps, dep(prev[s].start, root, 0))
			}
		}
		prev = cur
	}
	return b.sched
}

// programSlots builds the schedule of an SM whose slots run CTAs of
// differing lengths: each slot is a stream of key steps, the streams
// advance together, and a segment ends wherever one slot's CTA does (its
// epilogue and the slot's next prologue go there), so that no slot waits
// for another's CTA to end.
func (b *builder) programSlots(lists [][]cta) *sim.Schedule {
	root := &sim.Loop{Name: "sm", Count: 1}
	b.sched.Root = root
	n := len(lists)
	cur := make([]cta, n)    // the CTA each slot runs
	left := make([]int64, n) // its steps still to run
	next := make([]int, n)
	out := make([]ctaOps, n)
	last := make([][]*sim.Op, n)
	begin := func(s int) bool {
		for next[s] < len(lists[s]) {
			c := lists[s][next[s]]
			next[s]++
			prev := out[s].start
			out[s] = b.prologue(root, s)
			if prev != nil {
				out[s].qload.Deps = append(out[s].qload.Deps, dep(prev, root, 0))
			}
			last[s] = nil
			cur[s], left[s] = c, c.steps
			if c.steps > 0 {
				return true
			}
			b.epilogue(root, s, out, nil)
		}
		left[s] = 0
		return false
	}
	for s := range lists {
		begin(s)
	}
	for {
		var active []int
		steps := int64(math.MaxInt64)
		for s := range lists {
			if left[s] > 0 {
				active = append(active, s)
				steps = min(steps, left[s])
			}
		}
		if len(active) == 0 {
			return b.sched
		}
		seg := &sim.Loop{Name: "keys", Count: steps}
		root.Body = append(root.Body, seg)
		b.segment(root, seg, cur, active, out, last)
		for _, s := range active {
			if left[s] -= steps; left[s] == 0 {
				b.epilogue(root, s, out, last[s])
				begin(s)
			}
		}
	}
}

// round lays out the CTAs of one round: their query loads, the key loop
// in segments (all CTAs while the shortest runs, then the rest), their
// epilogues and stores.
func (b *builder) round(l *sim.Loop, rd round) []ctaOps {
	n := len(rd.Slots)
	out := make([]ctaOps, n)
	for s := range rd.Slots {
		out[s] = b.prologue(l, s)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int { return int(rd.Slots[x].steps - rd.Slots[y].steps) })
	last := make([][]*sim.Op, n) // per slot: the chains' last ops so far
	done := int64(0)
	for k, s := range order {
		steps := rd.Slots[s].steps - done
		if steps <= 0 {
			continue
		}
		active := order[k:]
		seg := &sim.Loop{Name: "keys", Count: steps}
		l.Body = append(l.Body, seg)
		b.segment(l, seg, rd.Slots, active, out, last)
		done = rd.Slots[s].steps
	}
	for s := range rd.Slots {
		b.epilogue(l, s, out, last[s])
	}
	return out
}

func (b *builder) prologue(l *sim.Loop, s int) ctaOps {
	bytes := b.bm * b.w.LoadRow
	ld := b.op("load Q", "", uL2, bytes/b.r.l2)
	ld.Latency = b.r.hbmLat
	hb := b.op("load Q (HBM)", "", uHBM, bytes/b.r.hbm)
	hb.Bytes = bytes
	hb.Deps = []sim.Dep{dep(ld, l, 0)}
	wr := b.op("write Q to shared memory", "", uSmem, bytes/b.r.smem)
	wr.Deps = []sim.Dep{dep(ld, l, 0)}
	l.Body = append(l.Body, ld, hb, wr)
	c := ctaOps{qload: ld, start: wr, hbm: []*sim.Op{hb}}
	if ph := b.w.Prologue; ph.FMA+ph.SFU > 0 {
		for _, ch := range b.chains {
			f := b.op("prologue", strings.Join(ph.Einsums, "+"), uFMA, ch.rows*(ph.FMA/b.r.fma+ph.SFU/b.r.sfu))
			f.Deps = []sim.Dep{dep(ld, l, 0)}
			l.Body = append(l.Body, f)
		}
	}
	return c
}

// segment is the key loop of the active CTAs for some steps: in each
// phase, every chain of every CTA in turn (so that one consumer's softmax
// meets another's products), then the tile loads, `stages` steps ahead.
func (b *builder) segment(l, seg *sim.Loop, slots []cta, active []int, out []ctaOps, last [][]*sim.Op) {
	type chainOps struct{ phases [][]*sim.Op }
	ops := map[int][]chainOps{}
	streamWrite := map[int]map[string]*sim.Op{}
	consumers := map[int]map[string][]*sim.Op{}
	for _, s := range active {
		ops[s] = make([]chainOps, len(b.chains))
		streamWrite[s] = map[string]*sim.Op{}
		consumers[s] = map[string][]*sim.Op{}
		for _, st := range b.w.Streams {
			streamWrite[s][st.Name] = b.op("write "+st.Name+" tile to shared memory", "", uSmem, st.Bytes/b.r.smem)
		}
	}
	overlap := b.m.IntraOverlap && len(b.w.Phases) > 1 && b.w.Phases[0].MMA
	for p, ph := range b.w.Phases {
		for _, s := range active {
			sel := 0.0
			if c := slots[s]; c.steps > 0 {
				sel = b.selectPt * float64(c.partial) / float64(c.steps)
			}
			for ci, ch := range b.chains {
				var now []*sim.Op
				if ph.MMA {
					now = b.mmaOps(ph, ch, streamWrite[s], consumers[s], seg)
				} else {
					now = b.aluOps(ph, ch, sel, seg)
					sel = 0
				}
				var deps []sim.Dep
				if p > 0 {
					for _, o := range ops[s][ci].phases[p-1] {
						deps = append(deps, dep(o, seg, 0))
					}
				} else {
					// Carry the chain from the previous segment, and wait
					// for the query block.
					deps = append(deps, dep(out[s].start, l, 0))
					for _, x := range last[s] {
						deps = append(deps, dep(x, l, 0))
					}
				}
				for _, o := range now {
					if overlap && p == 0 {
						o.Stage = -1
					}
					o.Deps = append(o.Deps, deps...)
				}
				ops[s][ci].phases = append(ops[s][ci].phases, now)
				seg.Body = append(seg.Body, items(now)...)
			}
		}
	}
	// Loop-carried dependencies of the first phase.
	np := len(b.w.Phases)
	for _, s := range active {
		for ci := range b.chains {
			ph := ops[s][ci].phases
			// Serially, a step starts when the last one ends; with the
			// next product issued early, it waits only for the scores two
			// steps back to have become probabilities (two score buffers).
			src, back := ph[np-1], 1
			if overlap {
				src, back = ph[1], 2
			}
			for _, o := range ph[0] {
				for _, x := range src {
					o.Deps = append(o.Deps, dep(x, seg, back))
				}
			}
		}
	}
	for _, s := range active {
		out[s].hbm = append(out[s].hbm, b.loads(seg, streamWrite[s], consumers[s])...)
		var tails []*sim.Op
		for ci := range b.chains {
			tails = append(tails, ops[s][ci].phases[np-1]...)
		}
		last[s] = tails
		out[s].lastUse = tails[len(tails)-1]
	}
}

// mmaOps is one chain's product: the tensor cores, and the shared-memory
// reads of its operands at the same time.
func (b *builder) mmaOps(ph phase, ch chainSpec, writes map[string]*sim.Op, consumers map[string][]*sim.Op, seg *sim.Loop) []*sim.Op {
	name := strings.Join(ph.Einsums, "+")
	t := b.op(name, name, uTensor, ch.rows*ph.FLOPs/b.r.mma)
	bytes := ch.rows * ph.SmemRow
	for _, s := range ph.Streams {
		for _, st := range b.w.Streams {
			if st.Name == s {
				bytes += st.Bytes * ch.readers
			}
		}
		t.Deps = append(t.Deps, dep(writes[s], seg, 0))
		consumers[s] = append(consumers[s], t)
	}
	out := []*sim.Op{t}
	if bytes > 0 {
		rd := b.op("read "+name+" operands", "", uSmem, bytes/b.r.smem)
		rd.Deps = append([]sim.Dep(nil), t.Deps...)
		out = append(out, rd)
	}
	return out
}

// aluOps is one chain's element-wise phase: the FMA pipe, then the SFU
// (one instruction stream), and the tensor-core cycles it costs another
// consumer's products.
func (b *builder) aluOps(ph phase, ch chainSpec, sel float64, seg *sim.Loop) []*sim.Op {
	name := strings.Join(ph.Einsums, "+")
	fc := ch.rows * (ph.FMA + sel) / b.r.fma
	sc := ch.rows * ph.SFU / b.r.sfu
	f := b.op(name+" (FMA)", name, uFMA, fc)
	s := b.op(name+" (SFU)", name, uSFU, sc)
	s.Deps = []sim.Dep{dep(f, seg, 0)}
	c := b.op(name+" (issue contention)", "", uTensor, b.r.contention*(fc+sc))
	c.PEFrac = 0
	return []*sim.Op{f, s, c}
}

// loads are one step's tile copies, `stages` steps ahead of their use:
// L2 (and the share of it that misses to HBM), then the shared-memory
// write, once the buffer's last consumer `stages` steps back is done and
// at most hbmWindow of the stream's HBM shares are outstanding.
func (b *builder) loads(seg *sim.Loop, writes map[string]*sim.Op, consumers map[string][]*sim.Op) []*sim.Op {
	lead := b.m.Stages
	var out []*sim.Op
	for _, st := range b.w.Streams {
		miss := b.r.miss[st.Name]
		ld := b.op("load "+st.Name+" tile", "", uL2, st.Bytes/b.r.l2)
		ld.Latency = b.r.l2Lat + miss*(b.r.hbmLat-b.r.l2Lat)
		hb := b.op("load "+st.Name+" tile (HBM)", "", uHBM, st.Bytes*miss/b.r.hbm)
		hb.Bytes = st.Bytes * miss
		w := writes[st.Name]
		for _, o := range []*sim.Op{ld, hb, w} {
			o.Stage = -lead
		}
		for _, c := range consumers[st.Name] {
			ld.Deps = append(ld.Deps, dep(c, seg, b.m.Stages))
		}
		ld.Deps = append(ld.Deps, dep(hb, seg, hbmWindow))
		hb.Deps = []sim.Dep{dep(ld, seg, 0)}
		w.Deps = []sim.Dep{dep(ld, seg, 0)}
		seg.Body = append(seg.Body, ld, hb, w)
		out = append(out, hb)
	}
	return out
}

func (b *builder) epilogue(l *sim.Loop, s int, out []ctaOps, tails []*sim.Op) {
	ph := b.w.Epilogue
	var ends []*sim.Op
	for _, ch := range b.chains {
		f := b.op("epilogue (FMA)", strings.Join(ph.Einsums, "+"), uFMA, ch.rows*ph.FMA/b.r.fma)
		g := b.op("epilogue (SFU)", strings.Join(ph.Einsums, "+"), uSFU, ch.rows*ph.SFU/b.r.sfu)
		for _, x := range tails {
			f.Deps = append(f.Deps, dep(x, l, 0))
		}
		g.Deps = []sim.Dep{dep(f, l, 0)}
		l.Body = append(l.Body, f, g)
		ends = append(ends, g)
	}
	bytes := b.bm * b.w.StoreRow
	st := b.op("store output", "", uHBM, bytes/b.r.hbm)
	st.Bytes = bytes
	for _, e := range append(ends, out[s].hbm...) {
		st.Deps = append(st.Deps, dep(e, l, 0))
	}
	l.Body = append(l.Body, st)
	out[s].store = st
	if b.m.WarpSpecial && out[s].lastUse != nil {
		// The producer loads the next tile once this tile's last product
		// has freed the shared-memory buffers, while the consumers still
		// finish this tile's epilogue.
		out[s].start = out[s].lastUse
		return
	}
	out[s].start = st
}

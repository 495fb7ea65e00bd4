package multi

import (
	"fmt"
	"math/bits"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/sim"
)

// ring is Ring and Striped attention: device r holds query block r and, at
// step s, key/value block r-s (mod g); it computes on that block while it
// forwards it to device r+1, which may receive it once a buffer is free.
func (r *run) ring() error {
	cq := r.q
	if r.m.Shard[r.query] != ShardReplicated {
		cq = r.q / r.g
	}
	ck := r.k / r.g
	step := r.at(cq, ck, r.groups)
	cost, err := r.model.Cost(r.dense, step)
	if err != nil {
		return err
	}
	kvBytes, err := r.bytesIndexedBy(step, r.key)
	if err != nil {
		return err
	}
	if err := r.mask.checkTiles(r.g*r.g, cq, ck, min(r.tq, cq), min(r.tk, ck)); err != nil {
		return err
	}
	kind := ShardRing
	if r.m.Schedule == Striped {
		kind = Striped
	}
	ql := layout{kind: kind, block: cq, group: r.g}
	if r.m.Shard[r.query] == ShardReplicated {
		ql.kind = ShardReplicated
	}
	kl := layout{kind: kind, block: ck, group: r.g}
	g := int(r.g)
	times := make([][]float64, g)
	for p := range times {
		times[p] = make([]float64, g)
		for s := 0; s < g; s++ {
			frac := r.mask.liveFraction(ql, int64(p), kl, int64((p-s+g)%g), min(r.tq, cq), min(r.tk, ck))
			times[p][s] = cost.Seconds * frac * r.attnFactor
			r.devs[p].LiveWork += frac
		}
	}
	if err := r.memory(step, kvBytes*float64(r.m.Buffers-1)); err != nil {
		return err
	}
	extra := r.extraSeconds(cq, 1/float64(r.groups))
	r.commSteps = g - 1
	r.emit = func(b *builder) error { return r.emitRing(b, times, kvBytes*r.commFactor, extra) }
	return nil
}

func (r *run) emitRing(b *builder, times [][]float64, bytes, extra float64) error {
	g := int(r.g)
	comp := make([][]*sim.Op, g)
	send := make([][]*sim.Op, g)
	for p := range comp {
		comp[p], send[p] = make([]*sim.Op, g), make([]*sim.Op, g)
	}
	buffers := int(r.m.Buffers)
	for s := 0; s < g; s++ {
		for p := 0; p < g; p++ {
			var arrived *sim.Op
			if s > 0 {
				arrived = send[(p-1+g)%g][s-1]
			}
			comp[p][s] = b.compute(r.order[p], "attention", times[p][s], arrived)
		}
		if s == g-1 {
			break
		}
		for p := 0; p < g; p++ {
			next := (p + 1) % g
			var have, free *sim.Op
			if s > 0 {
				have = send[(p-1+g)%g][s-1]
			}
			// The receiver's block s+1 goes into the buffer that block
			// s+1-buffers used.
			if back := s + 1 - buffers; back >= 0 {
				free = comp[next][back]
			}
			send[p][s] = b.send(r.order[p], r.order[next], bytes, have, free)
		}
	}
	for p := 0; p < g; p++ {
		if extra > 0 {
			b.compute(r.order[p], "non-attention", extra, comp[p][g-1])
		}
	}
	return nil
}

// tree is Tree attention for decoding: device r holds key/value shard r and
// every query; it computes its partial result, then the group all-reduces
// the partial softmax state (running max, sum and numerator) by recursive
// doubling: log2(g) exchanges.
func (r *run) tree() error {
	ck := r.k / r.g
	step := r.at(r.q, ck, r.groups)
	state, err := stateBytes(r.c, step, r.sys.Device.WordBytes)
	if err != nil {
		return err
	}
	if state == 0 {
		return fmt.Errorf("tree merges the running state of an iterate block (max, sum, numerator); cascade %s has none (use a 1-pass cascade such as attention_1pass)", r.c.Name)
	}
	cost, err := r.model.Cost(r.dense, step)
	if err != nil {
		return err
	}
	if err := r.mask.checkTiles(r.g, r.q, ck, min(r.tq, r.q), min(r.tk, ck)); err != nil {
		return err
	}
	ql := layout{kind: ShardReplicated, block: r.q}
	kl := layout{kind: ShardDevices, block: ck, group: r.g}
	g := int(r.g)
	times := make([]float64, g)
	for p := 0; p < g; p++ {
		frac := r.mask.liveFraction(ql, 0, kl, int64(p), min(r.tq, r.q), min(r.tk, ck))
		times[p] = cost.Seconds * frac * r.attnFactor
		r.devs[p].LiveWork = frac
	}
	if err := r.memory(step, state); err != nil {
		return err
	}
	rounds := bits.TrailingZeros64(uint64(r.g))
	r.commSteps = rounds
	extra := r.extraSeconds(r.q, 1/float64(r.groups))
	merge, err := r.mergeSeconds(step)
	if err != nil {
		return err
	}
	r.emit = func(b *builder) error {
		prev := make([]*sim.Op, g)
		for p := 0; p < g; p++ {
			prev[p] = b.compute(r.order[p], "attention", times[p])
		}
		for k := 0; k < rounds; k++ {
			cur := make([]*sim.Op, g)
			for p := 0; p < g; p++ {
				partner := p ^ (1 << k)
				var got *sim.Op
				if k > 0 {
					got = prev[partner] // what p merged last round came from its partner then
				}
				cur[p] = b.send(r.order[p], r.order[partner], state*r.commFactor, prev[p], got)
			}
			if merge > 0 {
				for p := 0; p < g; p++ {
					cur[p] = b.compute(r.order[p], "merge", merge, cur[p], cur[p^(1<<k)])
				}
			}
			prev = cur
		}
		for p := 0; p < g; p++ {
			if extra > 0 {
				b.compute(r.order[p], "non-attention", extra, prev[p], prev[p^(g>>1)])
			}
		}
		return nil
	}
	return nil
}

// mergeSeconds is one tree round's merge of two partial results: the
// merge cascade (the library's ring_merge) over two shards at the
// decode's shape, an element-wise pass bound by reading and writing its
// inputs and outputs at the device's memory bandwidth. Zero in the ideal
// accounting, without a merge cascade, or without a known bandwidth.
func (r *run) mergeSeconds(step map[string]int64) (float64, error) {
	mc := r.opt.Merge
	if r.opt.Ideal || mc == nil || r.sys.Device.MemoryBandwidth == 0 {
		return 0, nil
	}
	shape := map[string]int64{}
	var shardRank string
	for _, rk := range mc.Ranks {
		if rk.Parent != nil {
			continue
		}
		if v, ok := step[rk.Name]; ok {
			shape[rk.Name] = v
		} else if shardRank == "" {
			shardRank, shape[rk.Name] = rk.Name, 2
		} else {
			return 0, fmt.Errorf("merge cascade %s: ranks %s and %s are not in the shape; one (the shards) is expected", mc.Name, shardRank, rk.Name)
		}
	}
	for k, v := range step {
		if r.c.Rank(k) == nil { // instances: heads, batch
			shape[k] = v
		}
	}
	b, err := ioBytes(mc, shape, r.sys.Device.WordBytes)
	if err != nil {
		return 0, fmt.Errorf("merge cascade %s: %w", mc.Name, err)
	}
	return b / r.sys.Device.MemoryBandwidth, nil
}

// ulysses is DeepSpeed-Ulysses: each device holds a sequence shard of every
// input; an all-to-all regroups them by heads, each device runs attention
// over the whole sequence for its heads, and an all-to-all returns the
// output to sequence shards.
func (r *run) ulysses() error {
	local := r.at(r.q/r.g, r.k/r.g, r.groups)
	attn := r.at(r.q, r.k, r.groups*r.g)
	cost, err := r.model.Cost(r.dense, attn)
	if err != nil {
		return err
	}
	in, err := sumBytes(r.c, r.c.Inputs, local, r.sys.Device.WordBytes)
	if err != nil {
		return err
	}
	out, err := sumBytes(r.c, r.c.Outputs, local, r.sys.Device.WordBytes)
	if err != nil {
		return err
	}
	if err := r.mask.checkTiles(1, r.q, r.k, r.tq, r.tk); err != nil {
		return err
	}
	full := layout{kind: ShardReplicated}
	ql, kl := full, full
	ql.block, kl.block = r.q, r.k
	frac := r.mask.liveFraction(ql, 0, kl, 0, r.tq, r.tk)
	g := int(r.g)
	for p := range r.devs {
		r.devs[p].LiveWork = frac
	}
	if err := r.memory(attn, in+out); err != nil {
		return err
	}
	r.commSteps = 2 * (g - 1)
	t := cost.Seconds * frac * r.attnFactor
	extra := r.extraSeconds(r.q/r.g, 1/float64(r.groups))
	peer := func(p, j int) int { return (p + j) % g }
	r.emit = func(b *builder) error {
		sends := make([][]*sim.Op, g)
		for p := 0; p < g; p++ {
			for j := 1; j < g; j++ {
				sends[p] = append(sends[p], b.send(r.order[p], r.order[peer(p, j)], in/float64(g)*r.commFactor))
			}
		}
		for p := 0; p < g; p++ {
			var deps []*sim.Op
			for j := 1; j < g; j++ {
				from := (p - j + g) % g // the device whose j-th message goes to p
				deps = append(deps, sends[from][j-1])
			}
			c := b.compute(r.order[p], "attention", t, deps...)
			for j := 1; j < g; j++ {
				b.send(r.order[p], r.order[peer(p, j)], out/float64(g)*r.commFactor, c)
			}
			if extra > 0 {
				b.compute(r.order[p], "non-attention", extra, c)
			}
		}
		return nil
	}
	return nil
}

// memory records each device's memory at the per-device shape: its shards
// of the inputs and outputs, the running state, and what is in flight.
func (r *run) memory(shape map[string]int64, inFlight float64) error {
	w := r.sys.Device.WordBytes
	res, err := ioBytes(r.c, shape, w)
	if err != nil {
		return err
	}
	st, err := stateBytes(r.c, shape, w)
	if err != nil {
		return err
	}
	for i := range r.devs {
		r.devs[i].ResidentBytes, r.devs[i].InFlightBytes, r.devs[i].StateBytes = res, inFlight, st
	}
	return nil
}

// bytesIndexedBy sums the inputs that a rank (or a part of it) indexes: the
// blocks that travel with it.
func (r *run) bytesIndexedBy(shape map[string]int64, rank string) (float64, error) {
	var ts []*einsum.Tensor
	for _, t := range r.c.Inputs {
		for _, d := range t.Dims {
			if d.Rank != nil && d.Rank.Root().Name == rank {
				ts = append(ts, t)
				break
			}
		}
	}
	return sumBytes(r.c, ts, shape, r.sys.Device.WordBytes)
}

func sumBytes(c *einsum.Cascade, ts []*einsum.Tensor, shape map[string]int64, word float64) (float64, error) {
	total := 0.0
	for _, t := range ts {
		b, err := tensorBytes(c, t, shape, word)
		if err != nil {
			return 0, err
		}
		total += b
	}
	return total, nil
}

// stateBytes is the running state of the cascade's iterate blocks: every
// recurrence (a tensor seeded outside an iterate block and written inside
// it along the block's variable: RM, RD, RNV), one slice of it.
func stateBytes(c *einsum.Cascade, shape map[string]int64, word float64) (float64, error) {
	sizes, inst, err := bind(c, shape)
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, t := range c.Tensors {
		if !seeded(t) {
			continue
		}
		for _, d := range t.Defs {
			if d.Loop == nil || !indexedBy(t, d.Loop.Var) {
				continue
			}
			n := 1.0
			for _, dim := range t.Dims {
				if dim.Rank != d.Loop.Var {
					n *= float64(dim.Extent.MustEval(sizes))
				}
			}
			total += n * inst * word
			break
		}
	}
	return total, nil
}

func indexedBy(t *einsum.Tensor, rk *einsum.Rank) bool {
	for _, d := range t.Dims {
		if d.Rank == rk {
			return true
		}
	}
	return false
}

func seeded(t *einsum.Tensor) bool {
	for _, d := range t.Defs {
		if d.Loop == nil {
			return true
		}
	}
	return false
}

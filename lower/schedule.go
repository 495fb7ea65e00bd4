package lower

import (
	"fmt"
	"sort"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/sim"
)

// xfer collects one Einsum's DRAM traffic at one loop level.
type xfer struct {
	readBytes, writeBytes float64
	alloc                 float64 // L3 bytes a load brings in
	deferFree             bool    // the consumer frees it only on its loop's last iteration
	after                 []*sim.Op
}

// schedule turns the built Einsums into a sim.Schedule: a root loop, the
// outer DRAM loop over groups, and inside it the cascade's iterate loop,
// with one operation per Einsum and DRAM transfers around them.
func (lw *lowering) schedule(opt Options) (*Plan, error) {
	a, m := lw.a, lw.m
	s := &sim.Schedule{ClockHz: a.ClockHz, EnergyPJ: map[string]float64{}}
	for _, ar := range a.Arrays {
		s.Units = append(s.Units, sim.Unit{Name: ar.Name})
	}
	dramUnit := len(s.Units)
	dram := a.Memories[0]
	s.Units = append(s.Units, sim.Unit{Name: dram.Name, Memory: true})
	l3 := globalBuffer(a)
	s.Levels = []string{l3.Name}
	s.EnergyPJ[dram.Name+".read"] = dram.ReadPJ
	s.EnergyPJ[dram.Name+".write"] = dram.WritePJ
	s.EnergyPJ[l3.Name+".read"] = l3.ReadPJ
	s.EnergyPJ[l3.Name+".write"] = l3.WritePJ
	for _, ar := range a.Arrays {
		s.EnergyPJ[ar.Name+".rf.read"] = ar.PE.RegFile.ReadPJ
		s.EnergyPJ[ar.Name+".rf.write"] = ar.PE.RegFile.WritePJ
		for op, o := range ar.PE.Ops {
			s.EnergyPJ[ar.Name+"."+op] = o.EnergyPJ
		}
	}
	addStagingLevels(a, s)
	bytesPerCycle := dram.Bandwidth / a.ClockHz
	l3Words := l3.WidthBytes / lw.word

	root := &sim.Loop{Name: "run", Count: 1}
	var G int64 = 1
	for _, g := range lw.groups {
		G *= g.bound
	}
	group := &sim.Loop{Name: "group", Count: G}
	root.Body = []sim.Item{group}
	s.Root = root
	var inner *sim.Loop
	var innerAt int // position of the iterate loop in the group body
	var preLoop []sim.Item

	plan := &Plan{Schedule: s, Sizes: lw.sizes, Derived: lw.derived, Groups: G, Variant: m.Variant, Warnings: lw.warnings, Need: map[string]float64{l3.Name: lw.need()}}
	stores := map[string]*sim.Op{} // tensor → the op that writes it to DRAM
	storeLoop := map[string]*sim.Loop{}
	phaseOf := map[*sim.Op]int{} // group-level items, when the mapping runs phases in sequence

	// First pass: the operations themselves, so that dependencies can name
	// them.
	for _, p := range lw.ops {
		e := p.e
		points := p.nest.computes()
		cycles := 1.0
		for _, l := range p.nest.loops {
			if (l.level == 1 || l.inner) && !l.spatial {
				cycles *= float64(l.bound)
			}
		}
		pf := map[string]float64{}
		for k, v := range p.prims {
			pf[k] = float64(v)
		}
		cycles *= p.array.PE.Cycles(pf)
		pes := 1.0
		for _, l := range p.nest.loops {
			if l.spatial {
				pes *= float64(l.bound)
			}
		}
		op := &sim.Op{Name: e.Name(), Einsum: e.Name(), Unit: p.unit, Cycles: cycles, PEFrac: pes / float64(p.array.PEs()),
			Stage: p.stage, Actions: map[string]float64{}}
		if opt.PipelineLatency && len(p.array.Dims) == 2 {
			op.Latency = float64(p.array.Dims[0] + p.array.Dims[1] - 2)
		}
		if p.m.Drain != "" {
			d, err := lw.eval(p.m.Drain, "einsums."+e.Name()+".drain")
			if err != nil {
				return nil, err
			}
			if d < 0 {
				return nil, m.errorAt("einsums."+e.Name()+".drain", false, "einsums.%s.drain: %q is %g; a drain is a non-negative number of the operation's durations", e.Name(), p.m.Drain, d)
			}
			op.Latency += d * cycles
		}
		inst := float64(p.nInst)
		for k, v := range p.prims {
			op.Actions[p.array.Name+"."+k] += float64(v) * points / inst
		}
		for _, x := range p.acc {
			c := x.cnt
			gr, gw := c.Reads[1], c.Updates[1]+c.Fills[1]
			rr, rw := c.Reads[2], c.Updates[2]+c.Fills[2]
			if opt.EnergyProfile == ProfileFuseMaxMicro24 {
				// One PE's accesses, as the artifact's per-instance
				// statistics give them (MODEL.md §9.1).
				rr, rw = c.PerInst[2].Reads, c.PerInst[2].Updates+c.PerInst[2].Fills
				// The accesses Timeloop's wrapped partition sizes add
				// (MODEL.md §9.6; nest.partitionWrap): energy only, as in
				// the artifact, whose traffic never sees them.
				gr, gw = gr+c.Wrap[1].Reads, gw+c.Wrap[1].Fills
				rr, rw = rr+c.PerInstWrap[2].Reads, rw+c.PerInstWrap[2].Fills
			}
			op.Actions[l3.Name+".read"] += gr / l3Words / inst
			op.Actions[l3.Name+".write"] += gw / l3Words / inst
			op.Actions[p.array.Name+".rf.read"] += rr / inst
			op.Actions[p.array.Name+".rf.write"] += rw / inst
		}
		sh := lw.share(p)
		op.Cycles *= sh.fine
		for k, v := range op.Actions {
			op.Actions[k] = v * sh.fine
			if v == 0 || sh.fine == 0 {
				delete(op.Actions, k)
			}
		}
		p.op = op
		plan.Einsums = append(plan.Einsums, EinsumPlan{Name: e.Name(), Unit: p.array.Name, Ops: p.prims, Instances: p.nInst,
			Cycles: cycles, PEFrac: op.PEFrac, Spatial: fmt.Sprint(p.spatial), Class: ClassOf(e), BoundBy: p.boundBy, Nest: lw.nestText(p),
			Masked: sh.masked, Useful: sh.useful, Tiles: sh.cells, TilesSkipped: sh.skipped, WorkShare: sh.fine})
	}

	loopOf := func(p *eplan) *sim.Loop {
		if p.inLoop {
			return inner
		}
		return group
	}
	producer := func(t *einsum.Tensor) *eplan {
		var last *eplan
		for _, d := range t.Defs {
			if q, ok := lw.opOf[d]; ok {
				last = q
			}
		}
		return last
	}

	// Second pass: body order, transfers, dependencies.
	for _, p := range lw.ops {
		e := p.e
		if p.inLoop && inner == nil {
			inner = &sim.Loop{Name: e.Loop.Var.Var(), Count: lw.sizes[e.Loop.Var.Name]}
			innerAt = len(group.Body)
			group.Body = append(group.Body, inner)
		}
		own := loopOf(p)
		loads := map[*sim.Loop]*xfer{}
		var storeX xfer
		get := func(l *sim.Loop) *xfer {
			if loads[l] == nil {
				loads[l] = &xfer{}
			}
			return loads[l]
		}
		for _, x := range p.acc {
			c := x.cnt
			at := own
			if x.dram && p.inLoop && !lw.changesPerIteration(p, x) {
				at = group
			}
			var dr, dw float64
			if x.dram {
				f := 1.0
				if x.spill {
					f = 1 - lw.spill // the part that would spill is not loaded at all
				}
				if x.output {
					if c.Reads[0] != c.Updates[0] {
						dr = c.Reads[0]
					}
					dw = c.Updates[0]
				} else {
					dr = c.Reads[0]
				}
				dr, dw = dr*f, dw*f
			}
			var sr, sw float64
			if x.l3 && x.spill && lw.spill > 0 {
				r := c.Reads[1]
				if x.output && r == c.Updates[1] {
					r = 0
				}
				sr, sw = lw.spill*r, lw.spill*c.Updates[1]
			}
			if dr > 0 {
				lx := get(at)
				lx.readBytes += dr * lw.word
				if x.l3 {
					lx.alloc += x.foot * lw.word
					lx.deferFree = at != own
				}
				if q := producer(x.tensor); q != nil && !x.output {
					if st := stores[x.tensor.Name]; st != nil {
						lx.after = append(lx.after, st)
					}
				}
			}
			if sr > 0 {
				get(own).readBytes += sr * lw.word
			}
			storeX.writeBytes += (dw + sw) * lw.word
			if x.output && dw > 0 {
				storeLoop[x.tensor.Name] = own
			}
		}
		// Loads, in a fixed order: the group-level one first.
		for _, l := range []*sim.Loop{group, inner} {
			lx := loads[l]
			if l == nil || lx == nil {
				continue
			}
			ld := &sim.Op{Name: "load " + e.Name(), Unit: dramUnit, Cycles: lx.readBytes / bytesPerCycle, PEFrac: 1,
				Bytes: lx.readBytes, Actions: map[string]float64{}}
			n := float64(p.nInst)
			if l == group && p.inLoop {
				n /= float64(inner.Count)
			}
			f := lw.share(p).tile
			if l == group {
				f = lw.share(p).group
			}
			lw.skippedBytes += ld.Bytes * (1 - f)
			ld.Cycles *= f / n
			ld.Bytes *= f / n
			ld.Actions[dram.Name+".read"] = ld.Bytes / dram.WidthBytes
			if err := lw.stage(ld); err != nil {
				return nil, err
			}
			ld.Stage = p.stage - m.Prefetch
			if l != own {
				ld.Stage = -m.Prefetch
			}
			ld.Deps = append(ld.Deps, sim.Dep{Op: p.op, Loop: l, Back: m.Buffers})
			for _, st := range lx.after {
				ld.Deps = append(ld.Deps, sim.Dep{Op: st, Loop: group})
			}
			if lx.alloc > 0 {
				ld.Alloc = append(ld.Alloc, sim.Hold{Level: 0, Bytes: lx.alloc})
				when := sim.Every
				if lx.deferFree {
					when = sim.Last
				}
				p.op.Free = append(p.op.Free, sim.Hold{Level: 0, Bytes: lx.alloc, When: when})
			}
			p.op.Deps = append(p.op.Deps, sim.Dep{Op: ld, Loop: l})
			if l == group && p.inLoop {
				preLoop = append(preLoop, ld)
			} else if l == inner {
				inner.Body = append(inner.Body, ld)
			} else {
				group.Body = append(group.Body, ld)
				phaseOf[ld] = m.Phases[e.Name()]
			}
		}
		// Data flow between operations.
		for _, x := range p.acc {
			if x.output {
				continue
			}
			q := producer(x.tensor)
			if q == nil || q == p && x.tensor != e.Output.Tensor {
				continue
			}
			d := sim.Dep{Op: q.op, Loop: group}
			if q.inLoop && p.inLoop {
				d.Loop = inner
				d.Back = distance(e.Loop.Var, q.e.Output, x.acc)
				if d.Back == 0 && lw.after(q, p) {
					return nil, fmt.Errorf("%s: %s reads %s in the same iteration before it is written", e.Pos, e.Name(), x.tensor.Name)
				}
			}
			p.op.Deps = append(p.op.Deps, d)
			// Back-pressure: the buffer between two units holds `buffers`
			// iterations, so a producer cannot run further ahead of its
			// consumer (without it a fast producer would race ahead forever
			// and the loop would never reach a steady state).
			if q.op.Unit != p.op.Unit && q.inLoop == p.inLoop && q != p {
				q.op.Deps = append(q.op.Deps, sim.Dep{Op: p.op, Loop: d.Loop, Back: m.Buffers + max(0, p.stage-q.stage)})
			}
		}
		if own == inner {
			inner.Body = append(inner.Body, p.op)
		} else {
			group.Body = append(group.Body, p.op)
			phaseOf[p.op] = m.Phases[e.Name()]
		}
		if storeX.writeBytes > 0 {
			n := float64(p.nInst)
			f := lw.share(p).tile
			if own == group {
				f = lw.share(p).group
			}
			lw.skippedBytes += storeX.writeBytes * (1 - f)
			st := &sim.Op{Name: "store " + e.Name(), Unit: dramUnit, Cycles: storeX.writeBytes * f / bytesPerCycle / n, PEFrac: 1,
				Bytes: storeX.writeBytes * f / n, Stage: p.stage + m.Writeback, Actions: map[string]float64{},
				Deps: []sim.Dep{{Op: p.op, Loop: own}}}
			st.Actions[dram.Name+".write"] = st.Bytes / dram.WidthBytes
			if err := lw.stage(st); err != nil {
				return nil, err
			}
			if own == inner {
				inner.Body = append(inner.Body, st)
			} else {
				group.Body = append(group.Body, st)
				phaseOf[st] = m.Phases[e.Name()]
			}
			stores[e.Output.Tensor.Name] = st
		}
	}
	if m.OneAtATime && inner != nil {
		lw.oneAtATime(group, inner)
	}
	if len(preLoop) > 0 {
		body := append([]sim.Item{}, group.Body[:innerAt]...)
		body = append(body, preLoop...)
		group.Body = append(body, group.Body[innerAt:]...)
	}
	lw.holds(plan)
	lw.noteUnusedLevels(plan)
	plan.Warnings = lw.warnings
	if len(m.Phases) > 0 {
		if inner != nil {
			return nil, m.errorAt("phases", true, "phases: cascade %s iterates (%s), and an iteration cannot be split across phases; drop phases, or use a cascade without an iterate block", lw.c.Name, inner.Name)
		}
		splitPhases(root, group, phaseOf)
	}
	sort.SliceStable(plan.Einsums, func(i, j int) bool { return false })
	return plan, nil
}

// share is the work an operation does once masked tiles are skipped.
func (lw *lowering) share(p *eplan) *skipShare {
	if sh, ok := lw.skip[p]; ok {
		return sh
	}
	return &skipShare{fine: 1, tile: 1, group: 1, useful: 1}
}

// splitPhases runs each phase's operations over all groups before the next
// phase starts: one group loop per phase, in phase order. A dependency on
// an earlier phase waits for all of it; back-pressure from a later phase
// no longer applies.
func splitPhases(root, group *sim.Loop, phaseOf map[*sim.Op]int) {
	var order []int
	loops := map[int]*sim.Loop{}
	for _, it := range group.Body {
		o := it.(*sim.Op)
		ph := phaseOf[o]
		if loops[ph] == nil {
			loops[ph] = &sim.Loop{Name: fmt.Sprintf("%s phase %d", group.Name, ph), Count: group.Count}
			order = append(order, ph)
		}
		loops[ph].Body = append(loops[ph].Body, o)
	}
	sort.Ints(order)
	root.Body = nil
	for _, ph := range order {
		root.Body = append(root.Body, loops[ph])
		for _, it := range loops[ph].Body {
			o := it.(*sim.Op)
			deps := o.Deps[:0]
			for _, d := range o.Deps {
				switch dp := phaseOf[d.Op]; {
				case dp == ph:
					d.Loop = loops[ph]
				case dp < ph:
					d = sim.Dep{Op: d.Op, Loop: root}
				default:
					continue
				}
				deps = append(deps, d)
			}
			o.Deps = deps
		}
	}
}

// oneAtATime makes every compute operation of an iteration wait for the
// last operation of each unit in the previous iteration, the previous
// group's last iteration included: a unit runs in issue order, so that is
// the whole previous iteration.
func (lw *lowering) oneAtATime(group, inner *sim.Loop) {
	last := map[int]*sim.Op{}
	var units []int
	for _, it := range inner.Body {
		if o, ok := it.(*sim.Op); ok && o.Einsum != "" {
			if last[o.Unit] == nil {
				units = append(units, o.Unit)
			}
			last[o.Unit] = o
		}
	}
	for _, it := range inner.Body {
		if o, ok := it.(*sim.Op); ok && o.Einsum != "" {
			for _, u := range units {
				o.Deps = append(o.Deps, sim.Dep{Op: last[u], Loop: inner, Back: 1}, sim.Dep{Op: last[u], Loop: group, Back: 1})
			}
		}
	}
}

// changesPerIteration reports whether an access's DRAM tile changes with
// the iterate loop (BK does, Q does not): the loop is among the relevant
// DRAM loops above the global buffer.
func (lw *lowering) changesPerIteration(p *eplan, x *access) bool {
	return x.rel[p.e.Loop.Var.Name]
}

// after reports whether q comes after p in the cascade.
func (lw *lowering) after(q, p *eplan) bool {
	for _, o := range lw.ops {
		if o == p {
			return true
		}
		if o == q {
			return false
		}
	}
	return false
}

// distance is how many iterations of the iterate rank separate a read from
// the write it sees: RM[m1+1] written, RM[m1] read → 1.
func distance(v *einsum.Rank, w, r *einsum.Access) int {
	off := func(a *einsum.Access) (int64, bool) {
		for _, ix := range a.Index {
			if !ix.Coef(v).IsZero() {
				c, ok := ix.Const.IsConst()
				return c, ok
			}
		}
		return 0, false
	}
	wo, ok1 := off(w)
	ro, ok2 := off(r)
	if !ok1 || !ok2 || wo < ro {
		return 0
	}
	return int(wo - ro)
}

// holds gives tensors that live on chip without a DRAM copy their buffer
// space: taken by the first operation of a group that keeps them, given
// back by the last.
func (lw *lowering) holds(plan *Plan) {
	type span struct {
		first, last *eplan
		foot        float64
	}
	spans := map[string]*span{}
	var order []string
	for _, p := range lw.ops {
		for _, x := range p.acc {
			if !x.l3 || x.dram {
				continue
			}
			sp := spans[x.name]
			if sp == nil {
				sp = &span{first: p}
				spans[x.name] = sp
				order = append(order, x.name)
			}
			sp.last = p
			if x.foot > sp.foot {
				sp.foot = x.foot
			}
		}
	}
	for _, name := range order {
		sp := spans[name]
		b := sp.foot * lw.word
		wf, wl := sim.Every, sim.Every
		if sp.first.inLoop {
			wf = sim.First
		}
		if sp.last.inLoop {
			wl = sim.Last
		}
		sp.first.op.Alloc = append(sp.first.op.Alloc, sim.Hold{Level: 0, Bytes: b, When: wf})
		sp.last.op.Free = append(sp.last.op.Free, sim.Hold{Level: 0, Bytes: b, When: wl})
	}
}

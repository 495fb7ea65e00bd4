package sim

import "math"

// snapshot is the state of the engine at the end of one iteration of a
// loop, relative to the frontier, plus the counters that grow linearly.
type snapshot struct {
	vec  []float64
	ref  float64    // the frontier, relative to the engine's origin before re-basing
	at   [2]float64 // the origin after re-basing (compensated sum)
	acc  []float64
	cums []int64 // issueCum of the loop and its descendants (loopInfo.desc order)
}

const noTag = -1e300

// snapshot re-bases every time on the loop's frontier (so that stored times
// stay small and exact however long the run), clamps times that can no
// longer matter, and records what the next iterations depend on.
func (e *engine) snapshot(l *Loop) *snapshot {
	in := &e.info[l.id]
	ref, f := math.Inf(-1), math.Inf(1)
	for _, u := range in.units {
		ref = math.Max(ref, e.free[u])
		f = math.Min(f, e.free[u])
	}
	if math.IsInf(ref, -1) { // a loop of bookkeeping ops only
		ref, f = 0, 0
	}
	e.retire(f)
	e.shift(-ref, nil)
	e.advance(ref)
	f -= ref

	s := &snapshot{ref: ref, at: [2]float64{e.origin, e.originLo}, acc: append([]float64(nil), e.acc...),
		cums: make([]int64, len(in.desc)), vec: make([]float64, 0, in.vecCap)}
	for _, u := range in.units {
		s.vec = append(s.vec, e.free[u])
	}
	for i, d := range in.desc {
		s.cums[i] = d.issueCum
	}
	for _, o := range in.ops {
		for lv, ring := range o.rings {
			L := o.loops[lv]
			base := L.cur
			if L != l && in.isDesc[L.id] {
				base = L.issueCum
			}
			// Slots rotate with the iteration number; list them by age.
			for back := 0; back < len(ring); back++ {
				tag := o.lastTag[lv] - int64(back)
				st := &ring[mod(tag, len(ring))]
				if tag < 0 || st.tag != tag {
					s.vec = append(s.vec, noTag, 0)
					continue
				}
				// A completion before the frontier's floor cannot delay
				// anything any more: every later operation starts after it.
				if st.t < f {
					st.t = f
				}
				s.vec = append(s.vec, float64(st.tag-base), st.t)
			}
		}
	}
	e.retire(f) // keeps events sorted
	for _, ev := range e.events {
		s.vec = append(s.vec, ev.t, float64(ev.level), ev.delta)
	}
	s.vec = append(s.vec, e.occ...)
	in.vecCap = max(in.vecCap, len(s.vec))
	return s
}

// shift moves stored times by d: all of them, or those outside loop info
// when in is non-nil.
func (e *engine) shift(d float64, in *loopInfo) {
	for u := range e.free {
		if in == nil || !in.inU[u] {
			e.free[u] += d
		}
	}
	for _, o := range e.ops {
		if in != nil && in.inOp[o.id] {
			continue
		}
		for _, r := range o.rings {
			for i := range r {
				r[i].t += d
			}
		}
	}
	for i := range e.events {
		if in == nil || !in.inOp[e.events[i].op] {
			e.events[i].t += d
		}
	}
	if in == nil {
		e.last += d
	}
}

// period returns the smallest c ≤ 4 such that the last snapshot equals the
// one c iterations earlier, or 0. Equal states evolve identically (the
// system is invariant under a shift of all times), so the loop is periodic
// from here on.
func period(h []*snapshot) int {
	last := h[len(h)-1]
	for c := 1; c <= 4 && c < len(h); c++ {
		prev := h[len(h)-1-c]
		span := elapsed(prev, last)
		if span <= 0 || len(prev.vec) != len(last.vec) {
			continue
		}
		tol := 1e-9 * span
		same := true
		for i, v := range last.vec {
			if math.Abs(v-prev.vec[i]) > tol {
				same = false
				break
			}
		}
		if same {
			return c
		}
	}
	return 0
}

// skip steps over times periods of the loop: window holds the snapshots
// of one period (first and last equal). Everything under the loop moves by
// times×(the period's time); counters grow by times×(the period's growth).
func (e *engine) skip(l *Loop, times int64, window []*snapshot) {
	in := &e.info[l.id]
	first, last := window[0], window[len(window)-1]
	t := float64(times) * elapsed(first, last)
	e.shift(-t, in)
	e.advance(t)
	for i := range e.acc {
		e.acc[i] += float64(times) * (last.acc[i] - first.acc[i])
	}
	c := int64(len(window) - 1)
	dcum := map[*Loop]int64{l: times * c}
	for i, d := range in.desc {
		if d != l {
			dcum[d] = times * (last.cums[i] - first.cums[i])
			d.issueCum += dcum[d]
		}
	}
	for _, o := range in.ops {
		for lv, ring := range o.rings {
			dt, ok := dcum[o.loops[lv]]
			if !ok || dt == 0 {
				continue
			}
			moved := make([]stamp, len(ring))
			for i := range moved {
				moved[i].tag = -1
			}
			for _, st := range ring {
				if st.tag >= 0 {
					st.tag += dt
					moved[mod(st.tag, len(ring))] = st
				}
			}
			copy(ring, moved)
			if o.lastTag[lv] >= 0 {
				o.lastTag[lv] += dt
			}
		}
	}
	e.skipped += times * c
}

// elapsed is the time between two snapshots.
func elapsed(a, b *snapshot) float64 { return (b.at[0] - a.at[0]) - (b.at[1] - a.at[1]) }

// advance moves the origin by d with Kahan compensation, so that a long run
// of small steps does not lose the low bits that a period comparison needs.
func (e *engine) advance(d float64) {
	y := d - e.originLo
	t := e.origin + y
	e.originLo = (t - e.origin) - y
	e.origin = t
}

package lower

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/einsum"
)

// The tile pass: the mapping's tiled ranks split each rank into groups
// (the outermost loops, shared by every Einsum), derived sizes (P1) take
// the largest value whose global-buffer state fits, and each Einsum gets
// its loop nest: the group loops and the iterate loop at DRAM, its
// temporal loops at the global buffer, its spatial fan-out over the array
// (MODEL.md §4's perfectly factorised nests).

// The storage levels of a nest, outermost first: DRAM (0), the memories
// between DRAM and the global buffer by their index in the arch spec, the
// global buffer (lw.gb: temporal loops inside a tile operation, the
// spatial fan-out) and the PEs' register files (lw.rf).
const levelDRAM = 0

// layout runs the tile and place passes for the current derived values.
func (lw *lowering) layout() error {
	if err := lw.tileGroups(); err != nil {
		return err
	}
	for _, p := range lw.ops {
		if err := lw.tileEinsum(p); err != nil {
			return err
		}
		lw.place(p)
	}
	return nil
}

// deriveTiles computes the mapping's derived values: for each, the largest
// divisor of its expression whose global-buffer state fits the level it
// names. The state grows with the divisor, so a bisection over the sorted
// divisors finds it.
func (lw *lowering) deriveTiles() error {
	for _, d := range lw.m.Derive {
		if err := lw.deriveOne(d); err != nil {
			return err
		}
	}
	return nil
}

func (lw *lowering) deriveOne(d Derived) error {
	m, a := lw.m, lw.a
	v, err := lw.eval(d.DivisorOf, "derive."+d.Name+".divisor_of")
	if err != nil {
		return err
	}
	n, err := asCount(v, d.DivisorOf)
	if err == nil && n > 1<<40 {
		err = fmt.Errorf("%q is %d, too many divisors to search (at most 2^40)", d.DivisorOf, n)
	}
	if err != nil {
		return m.errorAt("derive."+d.Name+".divisor_of", false, "derive.%s.divisor_of: %v", d.Name, err)
	}
	lv := a.Memory(d.Fits)
	if lv == nil || lv.CapacityBytes == 0 {
		return m.errorAt("derive."+d.Name+".fits", false, "derive.%s.fits names %q, which is not an on-chip level of %s (name one of: %s)", d.Name, d.Fits, a.Name, strings.Join(onchipLevels(a), ", "))
	}
	cands := divisors(n)
	fits := func(i int) (bool, float64, error) {
		lw.derived[d.Name] = cands[i]
		if err := lw.layout(); err != nil {
			return false, 0, err
		}
		need := lw.need()
		return need <= lv.CapacityBytes, need, nil
	}
	ok, smallest, err := fits(0)
	if err != nil {
		return err
	}
	if !ok {
		return m.noneFits(d, smallest, lv)
	}
	lo, hi := 0, len(cands)-1 // cands[lo] fits
	for lo < hi {
		mid := (lo + hi + 1) / 2
		ok, _, err := fits(mid)
		if err != nil {
			return err
		}
		if ok {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	lw.derived[d.Name] = cands[lo]
	return nil
}

func divisors(n int64) []int64 {
	var out []int64
	for d := int64(1); d*d <= n; d++ {
		if n%d == 0 {
			out = append(out, d)
			if d*d != n {
				out = append(out, n/d)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// tileGroups evaluates the mapping's tiles: the instance ranks (B, H) and
// each tiled rank's groups (size / tile) are the outer loops.
func (lw *lowering) tileGroups() error {
	m := lw.m
	lw.tile = map[string]int64{}
	lw.groups = nil
	for _, r := range m.Instances {
		n := int64(1)
		if v, ok := lw.shape[r]; ok {
			n = v
		}
		lw.groups = append(lw.groups, nloop{rank: r, bound: n})
	}
	for _, r := range m.TileOrder {
		size, ok := lw.sizes[r]
		if !ok || lw.c.Rank(r) == nil {
			return m.errorAt("tile."+r, true, "tile.%s: cascade %s has no rank %s (it has %s)", r, lw.c.Name, r, rankList(lw.c))
		}
		v, err := lw.eval(m.Tile[r], "tile."+r)
		if err != nil {
			return err
		}
		t, err := asCount(v, m.Tile[r])
		if err != nil {
			return m.errorAt("tile."+r, false, "tile.%s: %v", r, err)
		}
		if size%t != 0 {
			return m.errorAt("tile."+r, false, "tile.%s: a group of %d does not divide %s=%d; give a divisor of %d (%s)", r, t, r, size, size, nearDivisors(size, t))
		}
		lw.tile[r] = t
		lw.groups = append(lw.groups, nloop{rank: r, bound: size / t})
	}
	return nil
}

func (lw *lowering) extent(r string) int64 {
	if t, ok := lw.tile[r]; ok {
		return t
	}
	return lw.sizes[r]
}

// unitNest is the nest an Einsum's entry gives, else its stationarity
// order, else its unit's default.
func (lw *lowering) unitNest(p *eplan) Nest {
	m, nst := lw.m, p.m.Nest
	if len(nst.Spatial) == 0 && len(nst.L3) == 0 && len(nst.DRAM) == 0 {
		if ord, ok := m.Orders[m.Stationarity][p.e.Name()]; ok && len(ord) == 3 {
			nst = Nest{Spatial: []string{ord[1], ord[2]}, L3: []string{ord[2], ord[1], ord[0]}}
		} else {
			nst = m.Units[p.m.Unit]
		}
	}
	return nst
}

// tileEinsum builds an Einsum's loop nest, outermost first: the groups and
// the iterate loop at DRAM, then the entry's DRAM loops, its global-buffer
// loops (every other rank of the Einsum after them), then the spatial
// loops, each bounded by the array's dimension and the rank's extent.
func (lw *lowering) tileEinsum(p *eplan) error {
	e, nst := p.e, lw.unitNest(p)
	vars := map[string]bool{}
	for _, r := range e.Vars {
		vars[r.Name] = true
	}
	dims := p.array.Dims
	if len(dims) == 2 {
		dims = []int64{dims[1], dims[0]} // spatial lists columns first
	}
	if len(nst.Spatial) > len(dims) {
		return fmt.Errorf("%s: %s: %d spatial ranks for the %d dimensions of %s", lw.m.PosOf(p.m), e.Name(), len(nst.Spatial), len(dims), p.array.Name)
	}
	n := &nest{levels: lw.rf() + 1}
	for _, g := range lw.groups {
		n.loops = append(n.loops, nloop{rank: g.rank, bound: g.bound, level: lw.loopLevel[g.rank]})
	}
	if e.Loop != nil {
		n.loops = append(n.loops, nloop{rank: e.Loop.Var.Name, bound: lw.sizes[e.Loop.Var.Name], level: lw.loopLevel[e.Loop.Var.Name]})
	}
	spat := map[string]int64{}
	var spatial []nloop
	p.spatial = nil
	for i, r := range nst.Spatial {
		if !vars[r] {
			continue
		}
		b := min(dims[i], lw.extent(r))
		spat[r] = b
		spatial = append(spatial, nloop{rank: r, bound: b, level: lw.gb(), spatial: true})
		p.spatial = append(p.spatial, fmt.Sprintf("%s=%d", r, b))
	}
	placed := map[string]bool{}
	add := func(r string, level int) {
		if placed[r] || !vars[r] {
			return
		}
		placed[r] = true
		b := (lw.extent(r) + max(spat[r], 1) - 1) / max(spat[r], 1)
		n.loops = append(n.loops, nloop{rank: r, bound: b, level: level, inner: level == levelDRAM})
	}
	for _, r := range nst.DRAM {
		add(r, levelDRAM)
	}
	for _, r := range append(append([]string{}, nst.L3...), rankNames(e.Vars)...) {
		add(r, lw.gb())
	}
	p.nest = &nest{levels: n.levels, loops: append(n.loops, spatial...)}
	p.nInst = p.nest.tileOps()
	return lw.checkLoopOrder(p)
}

// checkLoopOrder rejects a nest whose levels do not nest: a loop placed at
// an inner level outside one at an outer level (levels.NAME.loops).
func (lw *lowering) checkLoopOrder(p *eplan) error {
	deepest := levelDRAM
	for _, l := range p.nest.loops {
		if l.inner || l.spatial {
			continue
		}
		if l.level < deepest {
			return lw.m.errorAt("levels", true, "levels: %s's loop %s runs at %s inside a loop at %s; place the loops of each level inside those of the levels above it",
				p.e.Name(), l.rank, lw.levelName(l.level), lw.levelName(deepest))
		}
		deepest = l.level
	}
	return nil
}

// levelName names a nest level.
func (lw *lowering) levelName(k int) string {
	if k >= lw.rf() {
		return "RF"
	}
	return lw.a.Memories[k].Name
}

func rankNames(rs []*einsum.Rank) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

// tileOps is how many tile operations the nest issues: the product of the
// loops above the global buffer that are not inside one operation.
func (n *nest) tileOps() int64 {
	k := int64(1)
	gb := n.levels - 2
	for _, l := range n.loops {
		if l.level < gb && !l.inner && !l.spatial {
			k *= l.bound
		}
	}
	return k
}

package multi

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/fusemax/fusemax/einsum"
)

// A mask is the cascade's filters over the query and key ranks, compiled
// to integer arithmetic on global token indices. A tile of queries × keys
// is skipped whole when one filter fails at all four of its corners: each
// filter is affine in the indices, so where it fails is a half-space, and a
// box whose corners lie in it lies in it entirely.
type mask struct {
	conds []mcond
}

type mterm struct {
	coef   int64
	key    bool  // the key index (else the query index)
	stride int64 // a split part's value is (index / stride) % size
	size   int64 // 0: the whole index
}

type mcond struct {
	terms []mterm
	konst int64
	op    einsum.CmpOp
}

// compileMask collects every filter of the cascade that mentions only the
// query and key ranks (or their split parts). A filter that mentions any
// other variable cannot be decided per tile and is left out: its tiles are
// computed.
func compileMask(c *einsum.Cascade, sizes map[string]int64, query, key string) mask {
	var m mask
	for _, e := range c.Einsums {
		for _, f := range e.Filters {
			if mc, ok := compileCond(f, sizes, query, key); ok {
				m.conds = append(m.conds, mc)
			}
		}
	}
	return m
}

func compileCond(f einsum.Cond, sizes map[string]int64, query, key string) (mcond, bool) {
	mc := mcond{op: f.Op}
	add := func(a einsum.Affine, sign int64) bool {
		mc.konst += sign * a.Const.MustEval(sizes)
		for _, t := range a.Terms {
			root := t.Var.Root().Name
			if root != query && root != key {
				return false
			}
			mt := mterm{coef: sign * t.Coef.MustEval(sizes), key: root == key, stride: 1}
			if t.Var.Parent != nil {
				mt.size = sizes[t.Var.Name]
				for p := t.Var; p.Parent != nil; p = p.Parent {
					parts := p.Parent.Parts
					for i := len(parts) - 1; i >= 0 && parts[i] != p; i-- {
						mt.stride *= sizes[parts[i].Name]
					}
				}
			}
			mc.terms = append(mc.terms, mt)
		}
		return true
	}
	if !add(f.L, 1) || !add(f.R, -1) {
		return mcond{}, false
	}
	return mc, true
}

func (c mcond) holds(q, k int64) bool {
	v := c.konst
	for _, t := range c.terms {
		x := q
		if t.key {
			x = k
		}
		if t.size > 0 {
			x = (x / t.stride) % t.size
		}
		v += t.coef * x
	}
	return c.op.Holds(v, 0)
}

// dead reports whether a box of global indices is masked entirely.
func (m mask) dead(q0, q1, k0, k1 int64) bool {
	for _, c := range m.conds {
		if !c.holds(q0, k0) && !c.holds(q0, k1) && !c.holds(q1, k0) && !c.holds(q1, k1) {
			return true
		}
	}
	return false
}

// layout places a device's local indices in the global sequence.
type layout struct {
	kind  string // ShardRing/ShardDevices: contiguous; Striped: round-robin; ShardReplicated: all
	block int64  // local extent
	group int64  // devices sharing the rank
}

// global is the global index of local index a of the block at pos. It
// grows with a in every layout, which liveKeys relies on.
func (l layout) global(pos, a int64) int64 {
	switch l.kind {
	case Striped:
		return a*l.group + pos
	case ShardReplicated:
		return a
	}
	return pos*l.block + a
}

// maxMaskTiles bounds the tile tests of one run, checked before any is made.
const maxMaskTiles = 1 << 24

// liveFraction is the share of a (query block × key block) pair's points
// that lie in tiles the mask does not skip: the work a device does on it.
func (m mask) liveFraction(ql layout, qpos int64, kl layout, kpos int64, tq, tk int64) float64 {
	if len(m.conds) == 0 {
		return 1
	}
	live := 0.0
	row := m.keyRow(kl, kpos, tk) // the same for every query tile
	for a0 := int64(0); a0 < ql.block; a0 += tq {
		a1 := min(a0+tq, ql.block) - 1
		live += float64(a1-a0+1) * float64(row.liveKeys(ql.global(qpos, a0), ql.global(qpos, a1)))
	}
	return live / (float64(ql.block) * float64(kl.block))
}

// checkTiles bounds the tile tests pairs × tiles-per-pair (none without
// a mask).
func (m mask) checkTiles(pairs, qblock, kblock, tq, tk int64) error {
	if len(m.conds) == 0 {
		return nil
	}
	nq, nk := (qblock+tq-1)/tq, (kblock+tk-1)/tk
	if float64(pairs)*float64(nq)*float64(nk) > maxMaskTiles {
		return fmt.Errorf("mask tiles of %d × %d over blocks of %d × %d on %d block pairs make %.3g tile tests (at most %d): give a larger mask_tile", tq, tk, qblock, kblock, pairs, float64(pairs)*float64(nq)*float64(nk), maxMaskTiles)
	}
	return nil
}

// keyRow is a row of key tiles: tk keys of the block at kpos each, and
// the pieces rowPieces cuts it into (ok false: test tile by tile).
type keyRow struct {
	m       mask
	kl      layout
	kpos    int64
	tk, n   int64
	corners [2]func(int64) int64
	pieces  []int64
	ok      bool
}

func (m mask) keyRow(kl layout, kpos, tk int64) keyRow {
	r := keyRow{m: m, kl: kl, kpos: kpos, tk: tk, n: (kl.block + tk - 1) / tk}
	r.corners = [2]func(int64) int64{
		func(j int64) int64 { return kl.global(kpos, j*tk) },
		func(j int64) int64 { return kl.global(kpos, min((j+1)*tk, kl.block)-1) },
	}
	r.pieces, r.ok = m.rowPieces(r.n, r.corners)
	return r
}

// liveKeys is, for the query tile [q0, q1], the number of local key
// indices of the block at kpos that lie in tiles of tk keys the mask does
// not skip (keyRow.liveKeys).
func (m mask) liveKeys(q0, q1 int64, kl layout, kpos, tk int64) int64 {
	return m.keyRow(kl, kpos, tk).liveKeys(q0, q1)
}

// liveKeys counts the row's live keys for the query tile [q0, q1]. Along
// the row, the tiles' corner keys grow with the tile; on a piece of the
// row where no split part of a key wraps (rowPieces), each condition's
// value is then monotone in the tile, so the tiles where it fails at all
// four corners are an interval, found by bisection, and the skipped tiles
// are the union of those intervals: the tiles dead finds one by one
// (liveKeysEach, used where that does not hold).
func (r keyRow) liveKeys(q0, q1 int64) int64 {
	if !r.ok {
		return r.m.liveKeysEach(q0, q1, r.kl, r.kpos, r.tk)
	}
	var dead [][2]int64
	for i, lo := range r.pieces {
		hi := r.n - 1
		if i+1 < len(r.pieces) {
			hi = r.pieces[i+1] - 1
		}
		for _, c := range r.m.conds {
			l, h := lo, hi
			for _, q := range [2]int64{q0, q1} {
				for _, k := range r.corners {
					a, b := monotoneRange(lo, hi, func(j int64) bool { return !c.holds(q, k(j)) })
					l, h = max(l, a), min(h, b)
				}
			}
			if l <= h {
				dead = append(dead, [2]int64{l, h})
			}
		}
	}
	keys := r.kl.block
	for _, d := range mergeRanges(dead) {
		keys -= min((d[1]+1)*r.tk, r.kl.block) - d[0]*r.tk
	}
	return keys
}

// liveKeysEach is liveKeys, testing every tile.
func (m mask) liveKeysEach(q0, q1 int64, kl layout, kpos, tk int64) int64 {
	var keys int64
	for b0 := int64(0); b0 < kl.block; b0 += tk {
		b1 := min(b0+tk, kl.block) - 1
		if !m.dead(q0, q1, kl.global(kpos, b0), kl.global(kpos, b1)) {
			keys += b1 - b0 + 1
		}
	}
	return keys
}

// maxRowPieces bounds the pieces of a row bisection is worth: beyond it,
// testing every tile is as cheap.
const maxRowPieces = 256

// rowPieces cuts the n tiles of a row into pieces, given by their first
// tiles, on which each condition's value is monotone in the tile at both
// corners: every condition is an order (<, <=, >, >=) whose key terms have
// one sign, and a split part of the key, (k / stride) % size, does not
// wrap (k crosses no multiple of stride·size) within a piece at either
// corner. ok is false where that fails or takes more than maxRowPieces.
func (m mask) rowPieces(n int64, corners [2]func(int64) int64) (starts []int64, ok bool) {
	var periods []int64
	for _, c := range m.conds {
		if c.op == einsum.EQ || c.op == einsum.NE {
			return nil, false
		}
		pos, neg := false, false
		for _, t := range c.terms {
			if !t.key {
				continue
			}
			pos, neg = pos || t.coef > 0, neg || t.coef < 0
			if t.size > 0 {
				periods = append(periods, t.stride*t.size)
			}
		}
		if pos && neg {
			return nil, false
		}
	}
	starts = []int64{0}
	for _, p := range periods {
		for _, k := range corners {
			for w := k(0)/p + 1; w*p <= k(n-1); w++ {
				if len(starts) > maxRowPieces {
					return nil, false
				}
				starts = append(starts, int64(sort.Search(int(n), func(j int) bool { return k(int64(j)) >= w*p })))
			}
		}
	}
	slices.Sort(starts)
	return slices.Compact(starts), true
}

// monotoneRange is the range [l, h] of j in [lo, hi] where p holds, p
// being monotone there (true on a prefix or on a suffix); l > h when
// nowhere.
func monotoneRange(lo, hi int64, p func(int64) bool) (int64, int64) {
	atLo, atHi := p(lo), p(hi)
	span := int(hi - lo + 1)
	switch {
	case atLo && atHi:
		return lo, hi
	case !atLo && !atHi:
		return hi + 1, hi
	case atLo: // a prefix: up to the last j where p holds
		return lo, lo + int64(sort.Search(span, func(i int) bool { return !p(lo + int64(i)) })) - 1
	default: // a suffix: from the first j where p holds
		return lo + int64(sort.Search(span, func(i int) bool { return p(lo + int64(i)) })), hi
	}
}

// mergeRanges is the union of inclusive ranges, as disjoint ranges in
// order.
func mergeRanges(rs [][2]int64) [][2]int64 {
	slices.SortFunc(rs, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
	var out [][2]int64
	for _, r := range rs {
		if k := len(out) - 1; k >= 0 && r[0] <= out[k][1]+1 {
			out[k][1] = max(out[k][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

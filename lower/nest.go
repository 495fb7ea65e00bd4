package lower

// The access-counting rules of Timeloop for perfectly factorised mappings
// (MODEL.md §4). A nest is a list of loops, outermost first, each at a
// storage level; spatial loops at level L fan out to the level below L.

type nloop struct {
	rank    string // the cascade rank (or instance rank) the loop walks
	bound   int64
	level   int
	spatial bool
	inner   bool // a DRAM-level loop inside one tile operation
}

type nest struct {
	loops  []nloop
	levels int
}

// counts is one dataspace's accesses at each level, totalled over the
// level's instances (PerInst keeps one instance's share, which is what the
// artifact charges for register files).
type counts struct {
	Reads, Updates, Fills []float64
	PerInst               []struct{ Reads, Updates, Fills float64 }
	// Wrap is, per level, the reads (and, below the outermost keeper, the
	// fills) an output gains in Timeloop's statistics when its first-read
	// elision subtracts a partition size computed in wrapped 64-bit
	// arithmetic (partitionWrap); totalled over instances, with PerInstWrap
	// one instance's share. Zero for inputs and for problems too small to
	// wrap.
	Wrap, PerInstWrap []struct{ Reads, Fills float64 }
}

// partitionWrap is the partition size Timeloop's first-read elision uses
// at level L (≥ 1) for a dataspace of size elements, per instance.
// Timeloop (tiling.cpp, ComputePartitionSizes) computes it level by level
// from the outermost, as parent partition × tile size / tile size, in
// std::size_t: once size × (the global-buffer tile) reaches 2^64 the
// product wraps and the elision subtracts too little, which is the
// unexplained large-problem excess of MODEL.md §9.6 (BERT at 256K:
// 3·2^42 × 2^21 wraps to 2^63, leaving a third of RNV elided). The levels
// below the global buffer inherit its partition, divided by the relevant
// fan-out.
func (n *nest) partitionWrap(L int, size float64, rel func(string) bool) float64 {
	t := n.tile(n.levels-2, rel) // the global buffer's tile
	if size >= 1<<63 || t >= 1<<63 {
		return size / n.relsp(0, L, rel) // out of the model's range; no claim
	}
	p := uint64(size) * uint64(t) / uint64(t) // wraps modulo 2^64, as size_t does
	return float64(p) / n.relsp(0, L, rel)
}

func (n *nest) computes() float64 {
	p := 1.0
	for _, l := range n.loops {
		p *= float64(l.bound)
	}
	return p
}

// instances is the product of spatial bounds above level lv.
func (n *nest) instances(lv int) float64 {
	p := 1.0
	for _, l := range n.loops {
		if l.spatial && l.level < lv {
			p *= float64(l.bound)
		}
	}
	return p
}

// nch is how many times the tile at level c changes: the temporal loops
// above c, without the innermost run of loops irrelevant to the dataspace
// (they reuse the tile). Loops of bound 1 do not exist.
func (n *nest) nch(c int, rel func(string) bool) float64 {
	last := -1 // the innermost relevant temporal loop above c
	for i, l := range n.loops {
		if !l.spatial && l.level < c && l.bound > 1 && rel(l.rank) {
			last = i
		}
	}
	p := 1.0
	for i := 0; i <= last; i++ {
		if l := n.loops[i]; !l.spatial && l.level < c {
			p *= float64(l.bound)
		}
	}
	return p
}

// tile is the dataspace's extent held at level c: every relevant loop at c
// or below.
func (n *nest) tile(c int, rel func(string) bool) float64 {
	p := 1.0
	for _, l := range n.loops {
		if l.level >= c && rel(l.rank) {
			p *= float64(l.bound)
		}
	}
	return p
}

// relsp is the product of relevant spatial bounds from level l down to c.
func (n *nest) relsp(l, c int, rel func(string) bool) float64 {
	p := 1.0
	for _, x := range n.loops {
		if x.spatial && x.level >= l && x.level < c && rel(x.rank) {
			p *= float64(x.bound)
		}
	}
	return p
}

// count applies the rules to one dataspace kept at the given levels
// (outermost first).
func (n *nest) count(keepers []int, rel func(string) bool, output bool) counts {
	k := counts{Reads: make([]float64, n.levels), Updates: make([]float64, n.levels), Fills: make([]float64, n.levels),
		PerInst: make([]struct{ Reads, Updates, Fills float64 }, n.levels),
		Wrap:    make([]struct{ Reads, Fills float64 }, n.levels), PerInstWrap: make([]struct{ Reads, Fills float64 }, n.levels)}
	size := 1.0
	for _, l := range n.loops {
		if rel(l.rank) {
			size *= float64(l.bound)
		}
	}
	for i, L := range keepers {
		inst := n.instances(L)
		var acc float64
		if i == len(keepers)-1 {
			acc = n.computes() / inst
		} else {
			C := keepers[i+1]
			acc = n.nch(C, rel) * n.tile(C, rel) * n.relsp(L, C, rel)
		}
		part := size / n.relsp(0, L, rel)
		var fills float64
		if i > 0 {
			fills = n.nch(L, rel) * n.tile(L, rel)
			if output {
				fills -= part
			}
		}
		var reads, updates float64
		if output {
			updates, reads = acc, acc-part
			if L > 0 {
				w := part - n.partitionWrap(L, size, rel)
				var wf float64
				if i > 0 {
					wf = w // the fills subtract the same partition
				}
				k.PerInstWrap[L].Reads, k.PerInstWrap[L].Fills = w, wf
				k.Wrap[L].Reads, k.Wrap[L].Fills = w*inst, wf*inst
			}
		} else {
			reads = acc
		}
		k.PerInst[L].Reads, k.PerInst[L].Updates, k.PerInst[L].Fills = reads, updates, fills
		k.Reads[L], k.Updates[L], k.Fills[L] = reads*inst, updates*inst, fills*inst
	}
	return k
}

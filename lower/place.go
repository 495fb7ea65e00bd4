package lower

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/einsum"
)

// The place pass: where each tensor reference of an Einsum is kept. An
// off-chip tensor is read from (and an output written to) DRAM unless the
// Einsum reads it from an on-chip copy (staged, or read back before its
// store could issue); an on-chip, staged or kept tensor has a tile in the
// global buffer; every operand has one in the PE's register file unless
// the Einsum takes it from the producer's registers. The keepers are the
// nest levels that hold it (outermost first), and the footprint the
// global buffer's words for it. capacity then checks the state against
// the global buffer.

// place decides every access of p (its reads, then its output).
func (lw *lowering) place(p *eplan) {
	p.acc = nil
	for _, a := range p.e.Reads() {
		p.acc = append(p.acc, lw.placeAccess(p, a, false))
	}
	p.acc = append(p.acc, lw.placeAccess(p, p.e.Output, true))
}

// placeAccess decides one reference: which ranks it depends on, the
// levels that keep it, and its global-buffer footprint.
func (lw *lowering) placeAccess(p *eplan, a *einsum.Access, out bool) *access {
	t := a.Tensor
	src := t
	if s, ok := lw.alias[t.Name]; ok {
		src = s
	}
	x := &access{acc: a, tensor: src, name: t.Name, output: out, rel: relevantRanks(a, lw.m.Instances)}
	named := func(list []string) bool { return contains(list, t.Name) || contains(list, src.Name) }
	inRegs, staged, keep := named(p.m.Registers), named(p.m.Staged), named(p.m.Keep)
	off := lw.offchip[t.Name] || lw.offchip[src.Name]
	on := lw.onchip[t.Name] || lw.onchip[src.Name]
	if !out && off && !staged && lw.readBack(p, t) {
		staged = true // read back before its store could issue: from the on-chip copy
	}
	if !inRegs {
		x.dram = off && !staged
		x.l3 = on || staged || keep
		x.spill = on || staged
	}
	if x.dram {
		x.keepers = append(x.keepers, levelDRAM)
	}
	if !inRegs {
		for _, k := range lw.keptAt(t.Name, src.Name) {
			x.keepers = append(x.keepers, k)
			if x.footAt == nil {
				x.footAt = map[int]float64{}
			}
			x.footAt[k] = p.nest.tile(k, x.relevant)
		}
	}
	if x.l3 {
		x.keepers = append(x.keepers, lw.gb())
		x.foot = p.nest.tile(lw.gb(), x.relevant)
	}
	x.keepers = append(x.keepers, lw.rf())
	return x
}

// relevantRanks are the ranks a reference's tile changes with: those its
// index uses (with the ranks they split), and every instance rank.
func relevantRanks(a *einsum.Access, instances []string) map[string]bool {
	rel := map[string]bool{}
	for _, r := range instances {
		rel[r] = true
	}
	for _, ix := range a.Index {
		for _, v := range ix.Vars() {
			rel[v.Name] = true
			for q := v.Parent; q != nil; q = q.Parent {
				rel[q.Name] = true
			}
		}
	}
	return rel
}

// relevant reports whether the reference's tile changes with rank r.
func (x *access) relevant(r string) bool { return x.rel[r] }

// readBack reports whether p reads off-chip tensor t that an earlier
// Einsum of the same loop produces and stores too late for p's load: the
// load issues `prefetch` iterations ahead of p, the store `writeback`
// behind its producer, so with no stages between them (an output such as
// a row max that the next Einsum also reads) the value never makes the
// round trip through DRAM and is read where it was produced.
func (lw *lowering) readBack(p *eplan, t *einsum.Tensor) bool {
	var q *eplan
	for _, d := range t.Defs {
		if o, ok := lw.opOf[d]; ok {
			q = o
		}
	}
	if q == nil || q == p || q.inLoop != p.inLoop || lw.after(q, p) || lw.m.Phases[q.e.Name()] != lw.m.Phases[p.e.Name()] {
		return false // a later phase reads what an earlier one stored
	}
	return p.stage-lw.m.Prefetch < q.stage+lw.m.Writeback
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// phaseFootprints is, per phase, each tensor's largest footprint in words
// at nest level k (phases run one after another, so only one phase's
// tensors are held at a time).
func (lw *lowering) phaseFootprints(k int) map[int]map[string]float64 {
	foot := map[int]map[string]float64{}
	for _, p := range lw.ops {
		ph := lw.m.Phases[p.e.Name()]
		if foot[ph] == nil {
			foot[ph] = map[string]float64{}
		}
		for _, x := range p.acc {
			f := x.foot
			if k != lw.gb() {
				f = x.footAt[k]
			}
			foot[ph][x.name] = math.Max(foot[ph][x.name], f)
		}
	}
	return foot
}

// largestPhase is the phase whose footprints at level k sum highest (the
// first on a tie), with that sum in words.
func (lw *lowering) largestPhase(k int) (map[string]float64, float64) {
	foot := lw.phaseFootprints(k)
	var best map[string]float64
	var most float64
	for _, ph := range sortedKeysInt(foot) {
		var sum float64
		for _, k := range sortedKeys(foot[ph]) {
			sum += foot[ph][k]
		}
		if best == nil || sum > most {
			best, most = foot[ph], sum
		}
	}
	return best, most
}

// need is the global-buffer state of the mapping in bytes: every tensor
// kept there, at its largest tile, in the largest phase.
func (lw *lowering) need() float64 { return lw.needAt(lw.gb()) }

// needAt is need at nest level k.
func (lw *lowering) needAt(k int) float64 {
	_, most := lw.largestPhase(k)
	return most * lw.word
}

// keptTensors lists the tensors of the largest phase's global-buffer
// state with their bytes, largest first.
func (lw *lowering) keptTensors() string {
	best, _ := lw.largestPhase(lw.gb())
	names := sortedKeys(best)
	sort.SliceStable(names, func(i, j int) bool { return best[names[i]] > best[names[j]] })
	var parts []string
	for _, n := range names {
		if best[n] > 0 {
			parts = append(parts, fmt.Sprintf("%s %.4g MiB", n, best[n]*lw.word/(1<<20)))
		}
	}
	return strings.Join(parts, ", ")
}

func sortedKeysInt[V any](m map[int]V) []int {
	var k []int
	for x := range m {
		k = append(k, x)
	}
	sort.Ints(k)
	return k
}

// capacity enforces the global buffer's capacity: a mapping that declares
// no spill must fit (what overflows would otherwise be counted as on-chip
// accesses for free); one that declares a spill share measured at
// capacity SpillAt keeps its excess over the physical overflow there, and
// the physical overflow (1 - capacity/state) follows the capacity, so the
// buffer spills more when it shrinks and less when it grows. A state above capacity is explained in a warning: how much, and
// which tensors the buffer keeps.
func (lw *lowering) capacity() error {
	if err := lw.levelCapacity(); err != nil {
		return err
	}
	m, l3 := lw.m, globalBuffer(lw.a)
	need, cp := lw.need(), l3.CapacityBytes
	lw.spill = m.Spill
	if m.SpillAt > 0 && need > 0 {
		// What the declared share says beyond the physical overflow at
		// SpillAt stays; the physical overflow follows the capacity.
		over := func(c float64) float64 { return max(0, 1-c/need) }
		lw.spill = min(0.99, max(0, over(cp)+m.Spill-over(m.SpillAt)))
	}
	if need <= cp {
		return nil
	}
	if lw.spill == 0 {
		return m.overCapacity(need, l3)
	}
	lw.warn("the mapping keeps %.4g MiB in %s, which holds %.4g MiB: %.4g MiB over, and a share %.4g of its on-chip accesses spills to DRAM (counted as traffic); it keeps %s",
		need/(1<<20), l3.Name, cp/(1<<20), (need-cp)/(1<<20), lw.spill, lw.keptTensors())
	return nil
}

// levelCapacity enforces the capacity of the levels between DRAM and the
// global buffer: the tiles a mapping keeps at one must fit it (there is no
// spill there).
func (lw *lowering) levelCapacity() error {
	for k := 1; k < lw.gb(); k++ {
		lv := lw.a.Memories[k]
		need := lw.needAt(k)
		if need <= lv.CapacityBytes {
			continue
		}
		where := ""
		if lv.CapacityAt != "" {
			where = " (capacity at " + lv.CapacityAt + ")"
		}
		return lw.m.errorAt("levels."+lv.Name, true, "levels.%s: the mapping keeps %.0f bytes in %s, which holds %.0f%s: keep fewer tensors there, place fewer loops at it, or give %s more capacity",
			lv.Name, need, lv.Name, lv.CapacityBytes, where, lv.Name)
	}
	return nil
}

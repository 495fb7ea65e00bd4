package lower

import (
	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/sim"
	"github.com/fusemax/fusemax/specs"
)

// The memory hierarchy as the lowering uses it: the outermost level is
// off chip, the innermost on-chip level is the global buffer the mapping
// keeps tensors in (Timeloop's L3), and every level between them stages
// the DRAM transfers (an L2 between DRAM and the global buffer): each
// byte a load brings in is written into it and read out of it, a store
// the reverse, and one transfer's data must fit it.

// globalBuffer is the innermost on-chip level.
func globalBuffer(a *arch.Spec) *arch.Memory { return a.Memories[len(a.Memories)-1] }

// stagingLevels are the on-chip levels between DRAM and the global buffer.
func stagingLevels(a *arch.Spec) []*arch.Memory { return a.Memories[1 : len(a.Memories)-1] }

// addStagingLevels registers the staging levels' energies and occupancy
// levels (after the global buffer, level 0).
func addStagingLevels(a *arch.Spec, s *sim.Schedule) {
	for _, lv := range stagingLevels(a) {
		s.Levels = append(s.Levels, lv.Name)
		s.EnergyPJ[lv.Name+".read"] = lv.ReadPJ
		s.EnergyPJ[lv.Name+".write"] = lv.WritePJ
	}
}

// stage charges a DRAM transfer of op.Bytes per instance to every staging
// level (a write in and a read out) and holds its bytes there while it
// runs, all but the share of accesses the level keeps (share(level) is
// what passes through; a kept tile's fills are counted by the nest); a
// transfer larger than a level is an error naming both.
func (lw *lowering) stage(op *sim.Op, share func(level int) float64) error {
	for i, lv := range stagingLevels(lw.a) {
		bytes := op.Bytes * share(1+i)
		if bytes > lv.CapacityBytes {
			return lw.m.errorAt("tile", true, "%s moves %.0f bytes per tile operation through %s, which holds %.0f (capacity at %s): tile less, or give %s more capacity",
				op.Name, bytes, lv.Name, lv.CapacityBytes, lv.CapacityAt, lv.Name)
		}
		if bytes == 0 {
			continue
		}
		op.Actions[lv.Name+".write"] += bytes / lv.WidthBytes
		op.Actions[lv.Name+".read"] += bytes / lv.WidthBytes
		h := sim.Hold{Level: 1 + i, Bytes: bytes}
		op.Alloc = append(op.Alloc, h)
		op.Free = append(op.Free, h)
	}
	return nil
}

// noteUnusedLevels warns of an on-chip level the mapping leaves empty: a
// global buffer no tensor is kept in, or a staging level no transfer
// passes (a level of the spec is never silently ignored).
func (lw *lowering) noteUnusedLevels(plan *Plan) {
	gb := globalBuffer(lw.a)
	if len(lw.a.Memories) > 1 && plan.Need[gb.Name] == 0 {
		lw.warn("memory level %s is unused: the mapping keeps no tensor in it", gb.Name)
	}
	moved := false
	sim.Walk(plan.Schedule.Root, func(o *sim.Op) { moved = moved || o.Bytes > 0 })
	for _, lv := range stagingLevels(lw.a) {
		if !moved {
			lw.warn("memory level %s is unused: no DRAM transfer passes through it", lv.Name)
		}
	}
}

// LevelMap is what a mapping places at one memory level between DRAM and
// the global buffer (`levels: {L2: {keep: [BK, BV], loops: [P, M1]}}`).
type LevelMap struct {
	// Keep are the tensors whose tiles the level keeps: their DRAM
	// transfers fill it once per change of its tile, and the levels below
	// are filled from it.
	Keep []string
	// Loops are outer loops (instance ranks, tiled ranks' groups, the
	// iterate rank) that run at the level: the tiles it keeps span them.
	// Loops keep their order, so a level's loops must follow those of the
	// levels above it.
	Loops []string
}

// readLevels reads the mapping's levels section.
func readLevels(ls *specs.Obj, m *Mapping) {
	m.Levels = map[string]*LevelMap{}
	for _, name := range ls.Keys() {
		x := ls.Sub(name, true)
		m.Levels[name] = &LevelMap{Keep: x.StrList("keep"), Loops: x.StrList("loops")}
		m.note("levels."+name, ls, name)
		m.note("levels."+name+".keep", x, "keep")
		m.note("levels."+name+".loops", x, "loops")
		x.Done()
	}
	ls.Done()
}

// gb is the nest level of the global buffer (the innermost memory) and rf
// that of the register files; levels 1..gb-1 are the memories between
// DRAM and it, by their index in the arch spec.
func (lw *lowering) gb() int { return len(lw.a.Memories) - 1 }
func (lw *lowering) rf() int { return len(lw.a.Memories) }

// bindLevels checks the mapping's levels section against the machine and
// the cascade, and records at which level each outer loop runs.
func (lw *lowering) bindLevels() error {
	lw.loopLevel = map[string]int{}
	outer := map[string]bool{}
	for _, r := range append(append([]string{}, lw.m.Instances...), lw.m.TileOrder...) {
		outer[r] = true
	}
	for _, p := range lw.ops {
		if p.e.Loop != nil {
			outer[p.e.Loop.Var.Name] = true
		}
	}
	for _, name := range sortedKeys(lw.m.Levels) {
		k := -1
		for i := 1; i < lw.gb(); i++ {
			if lw.a.Memories[i].Name == name {
				k = i
			}
		}
		if k < 0 {
			return lw.m.errorAt("levels."+name, true, "levels.%s: %s is not a memory level between %s and the global buffer %s of %s (those are: %s)",
				name, name, lw.a.Memories[0].Name, globalBuffer(lw.a).Name, lw.a.Name, joinNames(stagingNames(lw.a)))
		}
		lv := lw.m.Levels[name]
		if len(lv.Keep)+len(lv.Loops) == 0 {
			lw.warn("%s: levels.%s keeps no tensor and runs no loop; ignored", lw.m.File, name)
		}
		for _, t := range lv.Keep {
			if lw.c.Tensor(t) == nil {
				if err := lw.lacking(lw.m.File+": levels."+name+".keep", "cascade %s has no tensor %s", lw.c.Name, t); err != nil {
					return err
				}
			}
		}
		for _, r := range lv.Loops {
			if !outer[r] {
				return lw.m.errorAt("levels."+name+".loops", false, "levels.%s.loops: %s is not an outer loop of the mapping (those are the instance ranks, the tiled ranks and the iterate rank: %s)",
					name, r, joinNames(sortedKeys(outer)))
			}
			lw.loopLevel[r] = k
		}
	}
	return nil
}

func stagingNames(a *arch.Spec) []string {
	var out []string
	for _, lv := range stagingLevels(a) {
		out = append(out, lv.Name)
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// keptAt are the levels between DRAM and the global buffer that keep
// tensor t (or src, of which it is a view), outermost first.
func (lw *lowering) keptAt(t, src string) []int {
	var out []int
	for i := 1; i < lw.gb(); i++ {
		if lv := lw.m.Levels[lw.a.Memories[i].Name]; lv != nil && (contains(lv.Keep, t) || contains(lv.Keep, src)) {
			out = append(out, i)
		}
	}
	return out
}

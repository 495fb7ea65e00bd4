package lower

import (
	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/sim"
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
// runs; a transfer larger than a level is an error naming both.
func (lw *lowering) stage(op *sim.Op) error {
	for i, lv := range stagingLevels(lw.a) {
		if op.Bytes > lv.CapacityBytes {
			return lw.m.errorAt("tile", true, "%s moves %.0f bytes per tile operation through %s, which holds %.0f (capacity at %s): tile less, or give %s more capacity",
				op.Name, op.Bytes, lv.Name, lv.CapacityBytes, lv.CapacityAt, lv.Name)
		}
		if op.Bytes == 0 {
			continue
		}
		op.Actions[lv.Name+".write"] += op.Bytes / lv.WidthBytes
		op.Actions[lv.Name+".read"] += op.Bytes / lv.WidthBytes
		h := sim.Hold{Level: 1 + i, Bytes: op.Bytes}
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

// Package lower maps a checked cascade onto an architecture under a
// mapping/binding spec and produces the schedule the simulator runs: one
// tile operation per Einsum per iteration of the loops the mapping leaves
// above the global buffer, with dependencies taken from the cascade's data
// flow, DRAM transfers and spill traffic counted by Timeloop's nest rules
// (MODEL.md §4), buffer allocations, and per-action counts for energy.
//
// Lower runs named passes, one file each, in this order:
//
//	bind.go      sizes; each Einsum to a unit (own entry, class, default); operations per point
//	tile.go      groups, derived values (P1) from capacities, each Einsum's loop nest per level
//	place.go     the levels that keep each tensor reference; global-buffer state and capacity
//	count.go     Timeloop's access counts (nest.go); cycles and actions per tile operation
//	schedule.go  the sim.Schedule: operations, transfers, dependencies, holds, phases
//
// profile.go says how counts are charged (the accounting profiles),
// mask.go and skip.go what masked tiles spare, levels.go the staging
// levels between DRAM and the global buffer, print.go a canonical printer
// for each pass (FormatPass) and the whole program (FormatPlan), derive.go
// and search.go mappings the user did not write.
//
// It may import einsum, arch, specs and sim (whose Schedule is its output);
// it must not import anything under cmd.
package lower

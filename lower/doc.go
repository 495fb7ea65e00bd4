// Package lower maps a checked cascade onto an architecture under a
// mapping/binding spec and produces the schedule the simulator runs: one
// tile operation per Einsum per iteration of the loops the mapping leaves
// above the global buffer, with dependencies taken from the cascade's data
// flow, DRAM transfers and spill traffic counted by Timeloop's nest rules
// (MODEL.md §4), buffer allocations, and per-action counts for energy.
// Derived mapping values (the query super-tile P1) are computed here from
// capacities.
//
// It may import einsum, arch, specs and sim (whose Schedule is its output);
// it must not import anything under cmd.
package lower

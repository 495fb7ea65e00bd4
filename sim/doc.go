// Package sim executes a schedule, the loop-structured program of tile
// operations that package lower produces, at cycle resolution, and reports
// per-unit and per-Einsum statistics: cycles, utilization, buffer occupancy,
// traffic, energy and area.
//
// The model is list scheduling of a max-plus system: every unit runs its
// operations in issue order, an operation starts when its unit is free and
// its dependencies have completed, and a memory channel is a unit whose
// operations take bytes/bandwidth. Loops whose iterations reach a steady
// state (the state relative to the frontier repeats) are fast-forwarded, so
// the cost of a run does not grow with trip counts.
//
// Package sim knows nothing about cascades, specs or mappings: it must not
// import einsum, arch, lower or anything under cmd.
package sim

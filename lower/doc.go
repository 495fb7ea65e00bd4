// Package lower maps a checked cascade onto an architecture under a
// mapping/binding spec and produces the schedule the simulator runs.
//
// It may import einsum and arch; it must not import sim or anything under cmd.
package lower

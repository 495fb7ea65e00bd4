// Package analyze is fusemax's first look at a set of cascades: for each, the
// pass analysis and an evaluation on seeded inputs, with outputs that several
// cascades share (AV for every attention cascade) compared with each other.
// It is what `fusemax analyze` prints, and the quickest way to see that a
// newly written cascade computes what the library's cascades compute.
//
// It uses only the language side (einsum, einsum/passes, einsum/interp); it
// must not import arch, lower, sim or cmd.
package analyze

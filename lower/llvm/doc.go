// Package llvm compiles a checked cascade, at a given shape, to LLVM IR and
// runs it on the CPU, so that the cascade a review simulates is also executed
// and its outputs can be checked against the reference interpreter.
//
// Generate lowers one cascade to one LLVM function taking pointers to its
// input and output buffers. Loops follow the cascade: an iterate block is a
// loop, so the M1 tiles of the 1-pass attention cascade are the loops of the
// generated code; filters are guards; reductions start from their identity
// (-inf for max). Intermediates live in internal globals sized for the shape,
// with two storage reductions that keep the working memory of a 1-pass
// cascade independent of the iterated rank: a tensor written and read only
// inside an iterate block keeps a ring of as many slices as its accesses
// span (QK[m1, m0, p] keeps one, RM[m1+1, p] two), and a map that only
// reshapes another tensor (BK[e, m1, m0] = K[e, m1*M0 + m0]) is a view of it.
//
// Exec and Run build the module with the LLVM 14 tools (opt -O3, llc -O3),
// link it with a generated C driver using gcc, run it and read the results
// back. The driver also reports the kernel time, the peak resident set size
// and, with Options.CountAccesses, the element reads and writes per tensor.
//
// A mapping reaches it as Options.MapTile (the CLI derives it with package
// lower), so that the executed loop nest is the simulated one; its tests
// compare the counts with the simulator's (docs/llvm.md).
//
// The package is a backend: it may import einsum and tensor, and must not
// import sim, lower (the architecture mapping) or anything under cmd; only
// its tests do.
package llvm

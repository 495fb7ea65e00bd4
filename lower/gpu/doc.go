// Package gpu maps a cascade onto a GPU tile architecture (an arch spec
// with `kind: gpu`) under a GPU mapping (specs/mapping/fa2.yaml, fa3.yaml,
// standard.yaml) and runs the busiest SM's schedule on the sim engine.
//
// A fused mapping (FlashAttention-2/3 style) needs a cascade that takes one
// pass over its key rank through an iterate loop over key blocks: it cuts
// the loop body into alternating tensor-core products and element-wise
// phases (by dependency depth; an add into a product's result is its
// accumulator), costs each phase per query row from the cascade's own
// operations and the spec's per-operation pipe costs, and lays out one SM:
// its CTA slots (occupancy from registers, shared memory, threads), the
// consumer chains of each CTA (a CTA's warps in lockstep, or ping-pong
// warpgroups), K/V tile loads `stages` steps ahead through L2 (and the
// share that misses to HBM) into shared memory, and the CTAs of the busiest
// SM in waves. Masks classify every tile: skipped whole, partly masked
// (a full tile plus the mask), or full. An unfused mapping runs every Einsum
// as its own kernel through HBM.
//
// It may import arch, einsum, einsum/passes, sim and specs; it must not
// import lower (the spatial lowering) or anything under cmd.
package gpu

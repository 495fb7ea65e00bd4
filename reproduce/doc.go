// Package reproduce regenerates a paper's evaluation from this repository's
// cascades and specs: it walks an experiment spec (workloads × sequence
// lengths × configurations, end-to-end GEMM layers, a PE-array sweep),
// evaluates every design point through an Evaluator, and writes the
// artifact's CSVs byte-compatible with its Python (repr-formatted floats),
// SVG figures, and a summary.md with the headline numbers and, given
// reference CSVs, the worst relative error per file and column.
//
// The numbers never come from this package: each one is an Evaluator's
// answer for a (config, shape, overrides) point, and the real Evaluator
// runs the lowering and the simulator. Here live only the experiment's
// bookkeeping (which points, how rows combine, how the artifact printed
// them) and the drawing.
//
// It may import einsum, kernels, arch, lower, sim and specs; it must not
// import anything under cmd.
package reproduce

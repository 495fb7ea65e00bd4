// Package einsum is the checked form of the extended-Einsum language: a
// cascade of Einsums with resolved ranks, tensors, affine index expressions,
// filters, reductions and iteration blocks. It is what every later stage
// (pass analysis, the reference interpreter, the lowering to an architecture
// and to LLVM IR) consumes.
//
// The layering follows Go's own go/ast → go/types: package einsum/syntax
// parses text into a positioned syntax tree, and Check in this package turns
// that tree into a Program, reporting every semantic error at file:line:col.
//
// Package einsum knows nothing about hardware: it must not import arch, lower,
// sim or anything under cmd.
package einsum

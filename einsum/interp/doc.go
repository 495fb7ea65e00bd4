// Package interp is the reference interpreter of the extended-Einsum
// language: it executes a checked cascade on concrete dense tensors, in
// float64 or float32, and so defines what a cascade means. Every later stage
// (lowering, simulation) is checked against it.
//
// # Semantics
//
// Execution follows c.Einsums in order. An Einsum with a Loop runs inside its
// iterate block: the block's body (consecutive in c.Einsums) runs for
// v = 0, 1, … while the stopping condition does not hold and v is below the
// size of the loop's rank. Inside the body the loop variable is fixed; each
// Einsum's iteration space is its Vars.
//
// Every tensor point is either defined or not. Inputs are defined
// everywhere. A tensor is assigned once per point: writing a point that is
// already defined is a run-time error naming the tensor, the point and the
// statement (this is how two filtered definitions that overlap are caught).
//
// An Einsum's iteration space is restricted by its Filters, evaluated at each
// point of the space (output and reduced variables). An output point is
// computed when the filters hold at one or more of its points:
//
//   - With reductions (outermost first, each applying sum, max or min over
//     its variables in increasing order), a point of the space contributes
//     only where the filters hold and every tensor read is defined. An inner
//     reduction with no contributing point contributes nothing to the one
//     around it. If nothing contributes at all, the result is the outermost
//     operator's identity (0, -inf, +inf). The output point is then defined.
//   - A map (nothing reduced) defines the output point only where every read
//     is defined; otherwise the point stays undefined.
//
// A data-dependent filter (Sel[m1, p] > 0) is evaluated after the affine
// ones, at the points they admit only; an undefined read or a NaN fails it.
// A topk statement is evaluated as a map, then each fiber along its
// variable is replaced by its selection (einsum.TopK).
//
// Operands of lower rank broadcast: a read simply does not depend on the
// missing variables. A rank name used as a value is its size, an index
// variable its position. -inf - -inf is -inf (einsum.Difference). Reading
// outside a tensor's extent at a point that the filters admit is an error
// with the read's position; a point the filters exclude is never read.
//
// Points of one Einsum are computed in the order of Vars (row-major over the
// output variables, then the reductions). An Einsum that reads points of its
// own output tensor that it may also write sees the points it computed before
// (the interpreter falls back to point-by-point evaluation for it).
//
// In float32 mode the inputs are rounded to float32, and so is every
// operation result: each element-wise operation, each accumulation step, each
// function value. Results are still float64 slices holding float32 values.
// Reductions run in a fixed order, so results are deterministic, bit for bit,
// on every machine (products are never fused with the following add).
//
// An output point that no statement defined is an error naming the output
// and the point, unless the output is declared partial; points of partial
// outputs and of intermediates that nothing defined hold NaN in the
// returned tensors.
//
// # Implementation
//
// Each Einsum is compiled once per Run into closures over precomputed
// strides. The innermost variable (the output variable of smallest stride,
// or for a scalar output the innermost reduced variable) is evaluated as a
// vector: each expression node fills a []float64 over its extent, reads of
// contiguous runs are slices of the tensor's storage, and reads that do not
// depend on that variable are scalars. The common case, where every read is
// defined and nothing is filtered, takes a path without masks.
//
// Package interp depends on einsum and tensor only.
package interp

// Package passes computes how many passes a cascade of extended Einsums
// needs over the fiber of one rank: the lower bound of the FuseMax paper
// (Nayak et al., MICRO 2024, "Passes"), which holds for every mapping of the
// cascade because it follows from the data dependencies alone.
//
// A pass is one traversal of the fiber of a rank R. What follows is the
// definition the analysis implements; the terms are those of the paper.
//
// The family of R is R and its split parts (M, M1, M0 with variables m, m1,
// m0). An Einsum traverses R when its iteration space contains a family
// variable or it sits in an iterate block over one. It fully reduces R when
// it traverses R and its output is indexed by no family variable: GM[p] =
// QK[m, p] :: max(m) does, but neither LM[m1, p] = QK[m1, m0, p] :: max(m0)
// (local to one tile) nor RM[m1+1, p] = max(RM[m1, p], LM[m1, p]) (a running
// value) does.
//
// A value is complete after pass k when it exists only once the whole fiber
// has been traversed in pass k:
//   - the output of a full reduction that runs in pass k;
//   - a read of a tensor written inside an iterate block over a family
//     variable at a constant index in the iterated dimension that names the
//     end of the fiber (the constant mentions a rank size, as RD[M1, p]) and
//     is not the index of a seed written outside the block (RD[0, p]);
//   - anything computed from such values by an Einsum that does not traverse
//     R (AV[f, p] = RNV[f, M1, p] / RD[M1, p] is complete, and stays in pass 1).
//
// Every other value produced in pass k still carries the fiber, or is a
// tile-local or running value, and can be consumed in the same pass. The pass
// of an Einsum is the largest requirement among its reads: k+1 for a value
// complete after pass k when the Einsum traverses R (it needs the fiber
// again), k when it does not, and k for any other value produced in pass k.
// Inputs are produced in pass 0 and every Einsum is in pass 1 at least.
// Recurrences read their own previous iteration, so the passes are computed
// as a least fixed point.
//
// An Einsum that reads only inputs (directly or through other such Einsums)
// and does not fully reduce R, such as the re-tiling BV[f, m1, m0] =
// V[f, m1*M0 + m0], is placed in the earliest pass that consumes it, as a
// scheduler would: an input first read in a later pass is read once, not
// twice.
//
// Each extra pass is explained by one dependency chain (a full reduction,
// then an Einsum that needs its result and traverses R again), and every
// fiber read again in a later pass than the one that produced it is a
// retained fiber: it must stay on chip between the passes, or be written to
// memory and re-read, or be recomputed. Its size is given as a formula in
// the ranks, with the parts of a split collapsed (M1×M0×P is M×P).
//
// The analysis accepts a split part as the rank (M1 means M): passes are
// counted over the whole family, so only the root makes sense.
//
// Package passes reads the checked IR only; it must not import arch, lower,
// sim or anything under cmd.
package passes

// Package golden holds the golden data of the built-in kernels and the code
// that regenerates it: for each kernel, at two or more small shapes, seeded
// inputs and the float64 outputs of the reference interpreter, as .npy files
// under golden/KERNEL/SHAPE/NAME.npy (SHAPE as einsum.FormatShape prints it).
//
// The data is regenerated only by an explicit command (make golden, i.e.
// fusemax golden --dir golden); a test fails when regenerating would change
// a byte, and a commit that changes golden data says why.
//
// It may import einsum, einsum/interp, kernels and tensor; it must not
// import lower, sim, arch or cmd.
package golden

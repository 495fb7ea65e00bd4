// Package tensor holds dense float64 tensors, their NumPy .npy encoding and
// deterministic seeded random contents. It is the data currency between the
// reference interpreter (einsum/interp), the CLI's eval verb, the golden
// files and, later, the simulator's functional checks.
//
// Tensors are row-major with dimensions in the order of the declared index
// list of the tensor they hold, so that NumPy's np.load gives the array a
// user expects. Random contents come from a small PRNG implemented here, not
// math/rand, so that a seed means the same numbers on every machine and Go
// release; each tensor's stream is derived from (seed, tensor name) so that
// adding a tensor to a cascade does not change the others.
//
// The .npy reader parses the header itself (versions 1 to 3, float32 and
// float64, either byte order, C or Fortran order) and bounds everything a
// header declares before acting on it: the header length (64 KiB), the
// payload (2^48 bytes, overflow-checked), and a regular file's size, which
// must equal header plus payload; a stream is read in chunks, so memory
// follows the bytes present. Corrupt files are errors that say what is
// wrong, never a recovered panic. The writer streams, and its bytes are
// those npyio wrote before (version 2.0 headers), so files stay
// byte-identical.
//
// Package tensor is a leaf: it must not import einsum, lower, sim, arch or
// anything under cmd.
package tensor

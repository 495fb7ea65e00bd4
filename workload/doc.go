// Package workload names the transformer workloads of the FuseMax paper
// (MODEL.md §1.1) and parses sequence lengths such as 64K. A workload is
// only a shape: rank sizes that drive any cascade.
//
// It must not import einsum, arch, lower, sim or anything under cmd.
package workload

// Package specs holds the shipped architecture, mapping and configuration
// specs (embedded, so that their names work from any directory) and the YAML
// plumbing every spec loader shares: positions for file:line:col messages,
// strict key checking, quantities with units, and --set overrides.
//
// It knows nothing about Einsums, schedules or hardware semantics: it must
// not import einsum, arch, lower, sim or anything under cmd.
package specs

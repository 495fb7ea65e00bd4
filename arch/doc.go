// Package arch loads, validates and describes architecture specs: clock,
// memory levels, compute arrays and their processing elements, per-action
// energies and per-component areas. A unit, a memory level, a device and a
// link are data in a spec, not code paths.
//
// Package arch knows nothing about Einsums: it must not import einsum, lower,
// sim or anything under cmd.
package arch

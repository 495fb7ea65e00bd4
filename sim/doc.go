// Package sim executes a schedule produced by package lower and reports
// per-unit and per-Einsum statistics: cycles, utilization, buffer occupancy,
// traffic, energy and area.
//
// It must not import lower's callers or anything under cmd.
package sim

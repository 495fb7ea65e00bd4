// Package review puts designs side by side for a design review: it reads
// review files (designs, a baseline, workloads or shapes), evaluates every
// (design, shape) point, and renders comparison tables (text, Markdown,
// CSV, JSON) and a self-contained HTML report with SVG charts. It also
// runs sweeps: grids or lists over any --set path and shape, sliced into
// deterministic shards whose CSVs merge into the single-machine CSV, with
// the Pareto front of any two or more metrics.
//
// Every number comes from the lowering and the simulator, reached through
// one file (adapter.go), the only one here that imports lower, arch, sim,
// kernels or einsum; the rest of the package works on Metrics. It must not
// import reproduce or anything under cmd.
package review

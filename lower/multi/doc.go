// Package multi runs one attention cascade across the devices of a system
// (arch.System): Ring, Striped, Tree and Ulysses schedules. It shards the
// ranks a sharding mapping names, asks a per-device model (DeviceModel) what
// one device's share of the cascade costs, builds a schedule of per-device
// compute and per-link transfers, and runs it on the sim engine, so that
// transfers overlap compute exactly as far as the dependencies allow.
//
// The per-device work is the cascade itself at the shard's shape: a causal
// filter in the cascade skips mask tiles per device and step, so the
// imbalance of a contiguous (ring) layout shows. A DeviceModel can lower the
// cascade on a spatial architecture (LoweredModel, package lower), time it
// from a device's published attention throughput and memory bandwidth
// (RateModel), or count FLOPs at the device's peak (PeakModel, the papers'
// ideal accounting).
//
// Package multi must not import anything under cmd or reproduce.
package multi

package multi

import (
	"sort"
	"strings"

	"github.com/fusemax/fusemax/specs"
)

// The schedules a sharding mapping may name.
const (
	Ring    = "ring"    // contiguous blocks; key/value blocks travel a ring
	Striped = "striped" // tokens round-robin across devices; key/value blocks travel a ring
	Tree    = "tree"    // keys sharded; partial (max, sum, numerator) merged by a tree all-reduce
	Ulysses = "ulysses" // sequence-sharded I/O; all-to-all to head sharding around attention
)

// Shard values: how a rank is spread over the devices of a group.
const (
	ShardDevices    = "devices"    // split in equal contiguous (or striped) blocks
	ShardRing       = "ring"       // split, and the blocks travel the ring
	ShardReplicated = "replicated" // every device holds all of it
)

// Mapping is a sharding mapping: which ranks are spread over devices and
// which schedule moves data between them.
type Mapping struct {
	File     string
	Name     string
	Kernel   string // informational
	Schedule string
	Shard    map[string]string // rank → devices | ring | replicated
	Heads    string            // the rank of independent heads ("" if none)
	// Group is the number of devices of one sequence-parallel group (0: all
	// of the system); the system's devices / Group groups shard Heads.
	Group int64
	// MaskTile is, per sharded rank, the tile a causal mask skips whole
	// only when every point of it is masked.
	MaskTile map[string]int64
	// Buffers is how many key/value blocks a device holds at once: the one it
	// computes on and Buffers-1 in flight.
	Buffers int64
	// spots is where schedule, shard.R, group, heads and mask_tile.R are
	// written, for the checks against the cascade and the system.
	spots *specs.Spots
}

// errorAt is an error at the value written at path (a key of spots), or
// at its key with atKey.
func (m *Mapping) errorAt(path string, atKey bool, format string, args ...any) error {
	return m.spots.Errorf(path, atKey, format, args...)
}

// LoadMapping reads a sharding mapping by file path or built-in name
// (specs/mapping) and applies the --set overrides (PATH=VALUE, without the
// "mapping." prefix).
func LoadMapping(ref string, sets []string) (*Mapping, error) {
	file, src, err := specs.Read("mapping", ref)
	if err != nil {
		return nil, err
	}
	return ParseMapping(file, src, sets)
}

// IsSharding reports whether a mapping document shards ranks across
// devices (has a shard section), without validating it.
func IsSharding(ref string) bool {
	file, src, err := specs.Read("mapping", ref)
	if err != nil {
		return false
	}
	d, err := specs.Parse(file, src)
	if err != nil || d.Root == nil {
		return false
	}
	var errs specs.Errors
	return d.Obj(d.Root, "mapping", &errs).KeyNode("shard") != nil
}

// ParseMapping is LoadMapping for text already read.
func ParseMapping(file string, src []byte, sets []string) (*Mapping, error) {
	d, err := specs.ParseWithSets(file, src, sets)
	if err != nil {
		return nil, err
	}
	var errs specs.Errors
	top := d.Obj(d.Root, "mapping", &errs)
	m := &Mapping{File: d.File, Shard: map[string]string{}, MaskTile: map[string]int64{}, spots: d.Spots()}
	m.Name = top.Str("name", true)
	m.Kernel = top.Str("kernel", false)
	m.Schedule = top.Str("schedule", true)
	m.Heads = top.Str("heads", false)
	m.Group = top.Int("group", false, 0)
	m.Buffers = 2 // double buffering unless the mapping says otherwise
	if top.Get("buffers") != nil {
		m.Buffers = top.Int("buffers", false, 1)
	}
	for _, k := range []string{"schedule", "heads", "group", "shard"} {
		m.spots.Note(k, top, k)
	}
	sh := top.Sub("shard", true)
	for _, r := range sh.Keys() {
		m.Shard[r] = sh.Str(r, true)
		m.spots.Note("shard."+r, sh, r)
	}
	sh.Done()
	mt := top.Sub("mask_tile", false)
	for _, r := range mt.Keys() {
		m.MaskTile[r] = mt.Int(r, true, 1)
		m.spots.Note("mask_tile."+r, mt, r)
	}
	mt.Done()
	top.Done()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	return m, nil
}

// want lists, per schedule, the shard values its two ranks may take.
var want = map[string][2][]string{
	Ring:    {{ShardRing}, {ShardDevices, ShardReplicated}},
	Striped: {{ShardRing}, {ShardDevices}},
	Tree:    {{ShardDevices}, {ShardReplicated}},
	Ulysses: {{ShardDevices}, {ShardDevices}},
}

func (m *Mapping) check() error {
	w, ok := want[m.Schedule]
	if !ok {
		return m.errorAt("schedule", false, "schedule must be ring, striped, tree or ulysses, not %q", m.Schedule)
	}
	if len(m.Shard) != 2 {
		return m.errorAt("shard", true, "shard must name two ranks, the queries' and the keys' (e.g. {P: devices, M: ring}), not %d", len(m.Shard))
	}
	vals := m.shardValues()
	okPair := func(a, b string) bool { return has(w[0], a) && has(w[1], b) }
	if !okPair(vals[0], vals[1]) && !okPair(vals[1], vals[0]) {
		return m.errorAt("shard", true, "schedule %s shards its ranks as {keys: %s, queries: %s}, not %s", m.Schedule,
			strings.Join(w[0], "|"), strings.Join(w[1], "|"), m.shardText())
	}
	for _, r := range sortedRanks(m.MaskTile) {
		if _, ok := m.Shard[r]; !ok {
			return m.errorAt("mask_tile."+r, true, "mask_tile.%s: %s is not a sharded rank (%s)", r, r, m.shardText())
		}
	}
	return nil
}

func (m *Mapping) shardValues() [2]string {
	var out [2]string
	for i, r := range sortedRanks(m.Shard) {
		out[i] = m.Shard[r]
	}
	return out
}

func (m *Mapping) shardText() string {
	var parts []string
	for _, r := range sortedRanks(m.Shard) {
		parts = append(parts, r+": "+m.Shard[r])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func sortedRanks[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

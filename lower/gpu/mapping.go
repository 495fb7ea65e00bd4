package gpu

import (
	"sort"
	"strconv"
	"strings"

	"github.com/fusemax/fusemax/specs"
)

// Mapping is a GPU mapping spec (`kind: gpu` in specs/mapping/): how a
// cascade's query blocks become CTAs, how its key blocks stream through
// shared memory, and which tile schedule the SM runs.
type Mapping struct {
	File, Name, Family string
	// Style is fused (one CTA per query block runs the whole cascade, K and V
	// streamed: FlashAttention) or unfused (one kernel per Einsum, every
	// intermediate through HBM: the standard PyTorch path).
	Style string
	// Query is the rank split into query blocks (one CTA each); Key the rank
	// streamed in key blocks by the cascade's iterate loop; KeyBlock the
	// cascade size the key block sets (M0); HeadDim the rank the tile table
	// is keyed by.
	Query, Key, KeyBlock, HeadDim string
	Instances                     []string // sizes the cascade does not name: independent CTAs
	MMA                           string   // tensor-core instruction path (mma_sync, wgmma)
	Copy                          string   // global→shared copy engine (cp_async, tma)
	// Consumer is the unit of work that owns a slice of the query block's
	// rows: warp (FlashAttention-2 split-Q) or warpgroup (FlashAttention-3).
	Consumer     string
	QInRegisters bool // the query block stays in registers (else shared memory)
	Persistent   bool // one CTA per SM loops over tiles (else the hardware schedules the grid)
	Stages       int  // K/V tiles of shared-memory pipeline per operand
	WarpSpecial  bool // a producer warpgroup issues the copies
	Pingpong     bool // consumer warpgroups alternate GEMMs and softmax
	IntraOverlap bool // the next QK product is issued before the current softmax
	RegsReserved int64
	ProducerRegs int64
	Tiles        map[int64]Tile // by head dimension
	Override     Tile           // block_m, block_n, warps given at top level (0: from the table)
	GEMMTile     [3]int64       // unfused: the GEMM kernels' block of rows, columns and reduction
	ElementsCTA  int64          // unfused: elements one CTA of an element-wise kernel handles
	// spots is where the values checked against the cascade and the GPU
	// are written (top-level keys; a tile table row as tiles.HD).
	spots *specs.Spots
}

// Tile is one row of the tile table.
type Tile struct {
	BlockM, BlockN, MaskedBlockN, Warps int64
	row                                 string // where the row is written (tiles.HD), for messages
}

// errorAt is an error at the value written at path (a key of spots), or
// at its key with atKey.
func (m *Mapping) errorAt(path string, atKey bool, format string, args ...any) error {
	return m.spots.Errorf(path, atKey, format, args...)
}

// tileAt is where tile field key (block_m, block_n, warps) of t is
// written: the top-level override, else t's table row.
func (m *Mapping) tileAt(t Tile, key string) string {
	if m.spots.Value(key) != nil {
		return key
	}
	return t.row
}

// IsMapping reports whether a mapping reference names a GPU mapping, so
// that a caller can route it (and say so when the arch is not a GPU).
func IsMapping(ref string) bool { return specs.KindOf("mapping", ref) == "gpu" }

// LoadMapping reads a GPU mapping by path or built-in name and applies the
// --set overrides (paths without the `mapping.` prefix).
func LoadMapping(ref string, sets []string) (*Mapping, error) {
	file, src, err := specs.Read("mapping", ref)
	if err != nil {
		return nil, err
	}
	return ParseMapping(file, src, sets)
}

// ParseMapping is LoadMapping for text already read.
func ParseMapping(file string, src []byte, sets []string) (*Mapping, error) {
	d, err := specs.ParseWithSets(file, src, sets)
	if err != nil {
		return nil, err
	}
	return decodeMapping(d)
}

func decodeMapping(d *specs.Doc) (*Mapping, error) {
	var errs specs.Errors
	o := d.Obj(d.Root, "mapping", &errs)
	if k := o.Str("kind", true); k != "gpu" && k != "" {
		o.Failf(o.Get("kind"), "mapping.kind must be gpu for a GPU mapping, not %q", k)
	}
	m := &Mapping{File: d.File, Name: o.Str("name", true), Family: o.Str("family", false), Tiles: map[int64]Tile{}, spots: d.Spots()}
	for _, k := range []string{"style", "mma", "copy", "warp_specialized", "query", "key", "key_block", "tiles", "block_m", "block_n", "warps"} {
		m.spots.Note(k, o, k)
	}
	m.Style = oneOf(o, "style", "fused", "fused", "unfused")
	m.Instances = o.StrList("instances")
	m.MMA = o.Str("mma", true)
	if m.Style == "unfused" {
		g := o.Sub("gemm_tile", true)
		m.GEMMTile = [3]int64{g.Int("block_m", true, 16), g.Int("block_n", true, 8), g.Int("block_k", true, 8)}
		g.Done()
		m.ElementsCTA = o.Int("elements_per_cta", true, 32)
		o.Done()
		return m, errs.Err()
	}
	m.Query, m.Key, m.KeyBlock, m.HeadDim = o.Str("query", true), o.Str("key", true), o.Str("key_block", true), o.Str("head_dim", true)
	m.Copy = o.Str("copy", true)
	m.Consumer = oneOf(o, "consumer", "", "warp", "warpgroup")
	m.QInRegisters = o.Bool("q_in_registers", false)
	m.Persistent = oneOf(o, "schedule", "dynamic", "dynamic", "persistent") == "persistent"
	m.Stages = int(o.Int("stages", true, 1))
	m.WarpSpecial = o.Bool("warp_specialized", false)
	m.Pingpong = o.Bool("pingpong", false)
	m.IntraOverlap = o.Bool("intra_warpgroup_overlap", false)
	m.RegsReserved = o.Int("registers_reserved", true, 0)
	m.ProducerRegs = o.Int("producer_registers", m.WarpSpecial, 0)
	if m.Stages > 8 {
		o.Failf(o.Get("stages"), "mapping.stages = %d: at most 8 K/V stages are modelled", m.Stages)
	}
	if m.IntraOverlap && m.Stages < 2 {
		o.Failf(o.Get("stages"), "mapping.intra_warpgroup_overlap issues the next key block's product early, so it needs stages >= 2")
	}
	if m.Pingpong && m.Consumer != "warpgroup" {
		o.Failf(o.Get("pingpong"), "mapping.pingpong alternates consumer warpgroups; it needs consumer: warpgroup")
	}
	tt := o.Sub("tiles", true)
	for _, k := range tt.Keys() {
		hd, err := strconv.ParseInt(k, 10, 64)
		if err != nil || hd < 1 {
			tt.Failf(tt.KeyNode(k), "mapping.tiles: %q is not a head dimension", k)
			continue
		}
		m.Tiles[hd] = decodeTile(tt.Sub(k, true), true)
		row := m.Tiles[hd]
		row.row = "tiles." + k
		m.Tiles[hd] = row
		m.spots.Note(row.row, tt, k)
	}
	tt.Done()
	m.Override = decodeTile(o, false)
	o.Done()
	return m, errs.Err()
}

func decodeTile(o *specs.Obj, table bool) Tile {
	t := Tile{BlockM: o.Int("block_m", table, 1), BlockN: o.Int("block_n", table, 1),
		MaskedBlockN: o.Int("masked_block_n", false, 1), Warps: o.Int("warps", table, 1)}
	for _, k := range []string{"block_m", "block_n", "masked_block_n"} {
		if n := o.Get(k); n != nil && o.Num(k, specs.Count, false, 1) > 4096 {
			o.Failf(n, "mapping %s = %s: at most 4096 rows are modelled", k, n.Value)
		}
	}
	if w := o.Get("warps"); w != nil && o.Num("warps", specs.Count, false, 1) > 32 {
		o.Failf(w, "mapping warps = %s: a CTA has at most 32 warps", w.Value)
	}
	if table {
		o.Done()
	}
	return t
}

func oneOf(o *specs.Obj, key, def string, allowed ...string) string {
	v := o.Str(key, def == "")
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	o.Failf(o.Get(key), "mapping.%s must be %s, not %q", key, strings.Join(allowed, " or "), v)
	return def
}

// tileFor picks the table row for a head dimension (the smallest listed one
// that holds it, as the kernels' dispatchers round the head dimension up)
// and applies the top-level overrides.
func (m *Mapping) tileFor(hd int64, masked bool) (Tile, error) {
	var keys []int64
	for k := range m.Tiles {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	var t Tile
	found := false
	for _, k := range keys {
		if hd <= k {
			t, found = m.Tiles[k], true
			break
		}
	}
	if !found {
		return Tile{}, m.errorAt("tiles", true, "tiles: no row for head dimension %s=%d (the table covers up to %d): add a row %d: {block_m: ..., block_n: ..., warps: ...}", m.HeadDim, hd, keys[len(keys)-1], hd)
	}
	if masked && t.MaskedBlockN > 0 {
		t.BlockN = t.MaskedBlockN
	}
	if m.Override.BlockM > 0 {
		t.BlockM = m.Override.BlockM
	}
	if m.Override.BlockN > 0 {
		t.BlockN = m.Override.BlockN
	}
	if m.Override.Warps > 0 {
		t.Warps = m.Override.Warps
	}
	return t, nil
}

// readMapping reads a built-in mapping (tests and fuzz seeds).
func readMapping(name string) (string, []byte, error) { return specs.Read("mapping", name) }

package workload

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Model is one transformer's attention dimensions.
type Model struct {
	Name             string
	B, D, E, F, H, S int64
}

// Models are the paper's four workloads (MODEL.md §1.1, from
// flat_validation.csv).
var Models = []Model{
	{"BERT", 64, 768, 64, 64, 12, 3072},
	{"TrXL", 64, 1024, 64, 64, 16, 4096},
	{"T5", 64, 512, 64, 64, 8, 2048},
	{"XLM", 64, 2048, 128, 128, 16, 8192},
}

// Lengths are the sequence lengths the paper evaluates.
var Lengths = []string{"1K", "4K", "16K", "64K", "256K", "1M"}

// Lookup finds a model by name, ignoring case.
func Lookup(name string) (Model, error) {
	var names []string
	for _, m := range Models {
		if strings.EqualFold(m.Name, name) {
			return m, nil
		}
		names = append(names, m.Name)
	}
	return Model{}, fmt.Errorf("unknown workload %q (known: %s)", name, strings.Join(names, ", "))
}

// Shape is the model at sequence length seq: M = P = seq.
func (m Model) Shape(seq int64) map[string]int64 {
	return map[string]int64{"B": m.B, "D": m.D, "E": m.E, "F": m.F, "H": m.H, "S": m.S, "M": seq, "P": seq}
}

// ParseLength reads 1024, 1K (=1024), 64K, 1M (=2^20).
func ParseLength(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	switch {
	case strings.HasSuffix(t, "K") || strings.HasSuffix(t, "k"):
		mult, t = 1<<10, t[:len(t)-1]
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("sequence length %q: want a positive count such as 4096, 4K or 1M", s)
	}
	return n * mult, nil
}

// FormatLength prints a length the way the paper's tables do (1K, 64K, 1M).
func FormatLength(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dK", n>>10)
	}
	return fmt.Sprint(n)
}

// ParseShape reads NAME=SIZE,NAME=SIZE (sizes may use K and M suffixes).
func ParseShape(s string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("shape %q: want NAME=SIZE pairs separated by commas, e.g. B=1,H=32,E=128", s)
		}
		n, err := ParseLength(v)
		if err != nil {
			return nil, fmt.Errorf("shape %s: %v", k, err)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("shape %q: %s given twice", s, k)
		}
		out[k] = n
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty shape: want NAME=SIZE pairs, e.g. B=1,H=32,E=128,F=128,M=8192,P=8192")
	}
	return out, nil
}

// FormatShape prints a shape with sorted names.
func FormatShape(s map[string]int64) string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, s[k])
	}
	return strings.Join(parts, ",")
}

// LinearDims are the model's sizes of its linear layers (D, the model
// width; S, the feed-forward width): in an attention cascade they are
// neither ranks nor independent instances (B and H are).
var LinearDims = []string{"D", "S"}

// ForCascade is a workload's shape without the linear-layer sizes the
// cascade does not name (named reports whether it names a rank), so that
// a lowering that counts unnamed sizes as instances does not multiply the
// work by D × S.
func ForCascade(shape map[string]int64, named func(rank string) bool) map[string]int64 {
	out := make(map[string]int64, len(shape))
	for k, v := range shape {
		out[k] = v
	}
	for _, k := range LinearDims {
		if !named(k) {
			delete(out, k)
		}
	}
	return out
}

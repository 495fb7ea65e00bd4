package multi

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/lower"
	"github.com/fusemax/fusemax/sim"
)

// Cost is what one device's share of the cascade costs.
type Cost struct {
	Seconds float64
	FLOPs   float64 // matrix FLOPs (2 per multiply-accumulate of a contraction)
	Bytes   float64 // off-chip traffic
}

// DeviceModel times one device's share of a cascade: the cascade at the
// shard's shape (sizes the cascade does not name, such as heads, count
// independent instances). Implementations must be deterministic.
type DeviceModel interface {
	// Describe says what the model is, for reports.
	Describe() string
	Cost(c *einsum.Cascade, shape map[string]int64) (Cost, error)
}

// PeakModel is the papers' ideal accounting: matrix FLOPs at the device's
// peak rate, memory free.
type PeakModel struct{ Device arch.Device }

func (p PeakModel) Describe() string {
	return fmt.Sprintf("ideal: matrix FLOPs at %s's peak %.4g TFLOP/s", p.Device.Name, p.Device.PeakFLOPs/1e12)
}

func (p PeakModel) Cost(c *einsum.Cascade, shape map[string]int64) (Cost, error) {
	f, err := MatrixFLOPs(c, shape)
	if err != nil {
		return Cost{}, err
	}
	return Cost{Seconds: f / p.Device.PeakFLOPs, FLOPs: f}, nil
}

// RateModel times the share from the device's published attention
// throughput and memory bandwidth: the larger of matrix FLOPs at the
// measured rate and the cascade's inputs and outputs at the memory
// bandwidth (a roofline). It is the per-device model for a device spec with
// no architecture to lower on.
type RateModel struct{ Device arch.Device }

func (r RateModel) Describe() string {
	return fmt.Sprintf("rates: matrix FLOPs at %s's measured attention throughput %.4g TFLOP/s, I/O at %.4g GB/s",
		r.Device.Name, r.Device.AttentionFLOPs/1e12, r.Device.MemoryBandwidth/1e9)
}

func (r RateModel) Cost(c *einsum.Cascade, shape map[string]int64) (Cost, error) {
	f, err := MatrixFLOPs(c, shape)
	if err != nil {
		return Cost{}, err
	}
	b, err := ioBytes(c, shape, r.Device.WordBytes)
	if err != nil {
		return Cost{}, err
	}
	t := f / r.Device.AttentionFLOPs
	if r.Device.MemoryBandwidth > 0 {
		t = max(t, b/r.Device.MemoryBandwidth)
	}
	return Cost{Seconds: t, FLOPs: f, Bytes: b}, nil
}

// LoweredModel lowers the share on a spatial architecture under a
// single-device mapping (package lower) and simulates it. Results are
// memoised by shape: a schedule asks for the same block many times.
type LoweredModel struct {
	Arch    *arch.Spec
	Mapping string // mapping spec reference (chosen per shape: variants)
	Options lower.Options

	memo costMemo
}

func (l *LoweredModel) Describe() string {
	return fmt.Sprintf("lowered: %s under mapping %s, simulated", l.Arch.Name, l.Mapping)
}

func (l *LoweredModel) Cost(c *einsum.Cascade, shape map[string]int64) (Cost, error) {
	return l.memo.cost(c, shape, func(key string) (seconds, bytes float64, err error) {
		m, err := lower.LoadMapping(l.Mapping, shape, nil)
		if err != nil {
			return 0, 0, err
		}
		rep, err := lower.Simulate(c, l.Arch, m, shape, l.Options, sim.Options{})
		if err != nil {
			return 0, 0, fmt.Errorf("one device's share (%s): %w", key, err)
		}
		return rep.LatencyS, rep.TrafficBytes, nil
	})
}

// costMemo memoises a simulated per-device model's costs by shape: a
// schedule asks for the same block many times, possibly from several
// goroutines.
type costMemo struct {
	mu   sync.Mutex
	memo map[string]Cost
}

// cost is the memoised cost of shape, simulating it (seconds and bytes
// moved; key names the shape for errors) on a miss.
func (m *costMemo) cost(c *einsum.Cascade, shape map[string]int64, simulate func(key string) (seconds, bytes float64, err error)) (Cost, error) {
	key := shapeKey(shape)
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.memo[key]; ok {
		return v, nil
	}
	seconds, bytes, err := simulate(key)
	if err != nil {
		return Cost{}, err
	}
	f, err := MatrixFLOPs(c, shape)
	if err != nil {
		return Cost{}, err
	}
	v := Cost{Seconds: seconds, FLOPs: f, Bytes: bytes}
	if m.memo == nil {
		m.memo = map[string]Cost{}
	}
	m.memo[key] = v
	return v, nil
}

// ModelFor picks the per-device model of a system: PeakModel when ideal;
// otherwise the lowering when the device names an arch and mapping, else
// the published rates.
func ModelFor(s *arch.System, ideal bool, opt lower.Options) (DeviceModel, error) {
	d := s.Device
	switch {
	case ideal:
		return PeakModel{d}, nil
	case d.Arch != "":
		a, err := arch.Load(d.Arch, nil)
		if err != nil {
			return nil, s.ErrorAt("device.arch", "device.arch: %v", err)
		}
		if a.GPU != nil {
			dt, err := gpuDtype(d.WordBytes)
			if err != nil {
				return nil, s.ErrorAt("device.word", "device.word: %v", err)
			}
			return &GPUModel{Arch: a, Mapping: d.Mapping, Dtype: dt}, nil
		}
		return &LoweredModel{Arch: a, Mapping: d.Mapping, Options: opt}, nil
	case d.AttentionFLOPs > 0:
		return RateModel{d}, nil
	}
	return nil, s.ErrorAt("device", "device %s has neither an arch to lower on nor a measured attention throughput; only the ideal mode (--ideal) can time it (or give it arch and mapping, or attention)", d.Name)
}

func shapeKey(shape map[string]int64) string {
	keys := make([]string, 0, len(shape))
	for k := range shape {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + strconv.FormatInt(shape[k], 10))
	}
	return b.String()
}

// bind returns the cascade's sizes at shape and the number of independent
// instances (the product of the shape's sizes the cascade does not name).
func bind(c *einsum.Cascade, shape map[string]int64) (map[string]int64, float64, error) {
	own := map[string]int64{}
	inst := 1.0
	for k, v := range shape {
		if c.Rank(k) != nil {
			own[k] = v
		} else {
			inst *= float64(v)
		}
	}
	// A split the shape leaves open (M into M1, M0) is one tile: the
	// counts here do not depend on it.
	for _, r := range c.Ranks {
		if len(r.Parts) == 0 {
			continue
		}
		given := false
		for _, p := range r.Parts {
			_, ok := own[p.Name]
			given = given || ok
		}
		if v, ok := own[r.Name]; ok && !given {
			own[r.Parts[len(r.Parts)-1].Name] = v
		}
	}
	sizes, _, err := c.Bind(own)
	return sizes, inst, err
}

// MatrixFLOPs counts 2 FLOPs per multiply-accumulate of every contraction
// (a product reduced by a sum) over its iteration space, the convention of
// the published attention throughputs (4·M·P·E per head for attention).
func MatrixFLOPs(c *einsum.Cascade, shape map[string]int64) (float64, error) {
	sizes, inst, err := bind(c, shape)
	if err != nil {
		return 0, err
	}
	total := 0.0
	for _, e := range c.Einsums {
		b, ok := e.Expr.(*einsum.Binary)
		if !ok || b.Op != einsum.Mul || !sumReduced(e) {
			continue
		}
		pts := 1.0
		for _, r := range e.Vars {
			pts *= float64(sizes[r.Name])
		}
		if e.Loop != nil {
			pts *= float64(sizes[e.Loop.Var.Name])
		}
		total += 2 * pts
	}
	return total * inst, nil
}

func sumReduced(e *einsum.Einsum) bool {
	for _, r := range e.Reductions {
		if r.Op == einsum.Sum && len(r.Vars) > 0 {
			return true
		}
	}
	return false
}

// tensorBytes is a tensor's size at shape, for all instances.
func tensorBytes(c *einsum.Cascade, t *einsum.Tensor, shape map[string]int64, word float64) (float64, error) {
	sizes, inst, err := bind(c, shape)
	if err != nil {
		return 0, err
	}
	n := 1.0 // in floating point: extents up to 2^40 each would overflow a product in int64
	for _, d := range t.Dims {
		v, err := d.Extent.Eval(sizes)
		if err != nil {
			return 0, err
		}
		n *= float64(v)
	}
	return n * inst * word, nil
}

// ioBytes is the cascade's inputs and outputs at shape: the traffic of a
// fused kernel that reads each input once and writes each output once.
func ioBytes(c *einsum.Cascade, shape map[string]int64, word float64) (float64, error) {
	total := 0.0
	for _, t := range append(append([]*einsum.Tensor{}, c.Inputs...), c.Outputs...) {
		b, err := tensorBytes(c, t, shape, word)
		if err != nil {
			return 0, err
		}
		total += b
	}
	return total, nil
}

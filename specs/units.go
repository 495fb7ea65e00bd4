package specs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Dim is the physical dimension a spec value must have. Mixing them up
// (a capacity in MHz) is the commonest spec mistake, so every dimensioned
// value must carry its unit.
type Dim int

const (
	Count Dim = iota // a plain number; "cycles" may follow it
	Bytes
	Frequency
	Bandwidth
	Energy
	Area
	Time
	Throughput // FLOP/s
)

var dimNames = [...]string{"a plain number", "a size (B, KiB, MiB, GiB, TiB, bit)", "a frequency (Hz, kHz, MHz, GHz)", "a bandwidth (B/s, GB/s, GiB/s, ...)", "an energy (fJ, pJ, nJ, uJ)", "an area (um2, mm2)", "a time (s, ms, us, ns, ps)", "a compute rate (FLOP/s, GFLOP/s, TFLOP/s, PFLOP/s)"}

func (d Dim) String() string { return dimNames[d] }

// baseUnits names each dimension's base unit, in which Num's bounds are given.
var baseUnits = [...]string{"", " B", " Hz", " B/s", " pJ", " um2", " s", " FLOP/s"}

// unit → (dimension, factor to the base unit)
var units = map[string]struct {
	dim Dim
	f   float64
}{
	"":        {Count, 1},
	"cycles":  {Count, 1},
	"cycle":   {Count, 1},
	"bit":     {Bytes, 1.0 / 8},
	"bits":    {Bytes, 1.0 / 8},
	"B":       {Bytes, 1},
	"KB":      {Bytes, 1e3},
	"MB":      {Bytes, 1e6},
	"GB":      {Bytes, 1e9},
	"KiB":     {Bytes, 1 << 10},
	"MiB":     {Bytes, 1 << 20},
	"GiB":     {Bytes, 1 << 30},
	"TiB":     {Bytes, 1 << 40},
	"PiB":     {Bytes, 1 << 50},
	"EiB":     {Bytes, 1 << 60},
	"Hz":      {Frequency, 1},
	"kHz":     {Frequency, 1e3},
	"MHz":     {Frequency, 1e6},
	"GHz":     {Frequency, 1e9},
	"B/s":     {Bandwidth, 1},
	"KB/s":    {Bandwidth, 1e3},
	"MB/s":    {Bandwidth, 1e6},
	"GB/s":    {Bandwidth, 1e9},
	"KiB/s":   {Bandwidth, 1 << 10},
	"MiB/s":   {Bandwidth, 1 << 20},
	"GiB/s":   {Bandwidth, 1 << 30},
	"fJ":      {Energy, 1e-3},
	"pJ":      {Energy, 1},
	"nJ":      {Energy, 1e3},
	"uJ":      {Energy, 1e6},
	"um2":     {Area, 1},
	"mm2":     {Area, 1e6},
	"s":       {Time, 1},
	"ms":      {Time, 1e-3},
	"us":      {Time, 1e-6},
	"ns":      {Time, 1e-9},
	"ps":      {Time, 1e-12},
	"FLOP/s":  {Throughput, 1},
	"GFLOP/s": {Throughput, 1e9},
	"TFLOP/s": {Throughput, 1e12},
	"PFLOP/s": {Throughput, 1e15},
}

// ParseQuantity reads "16 MiB", "940MHz", "249.6 pJ" or a plain number and
// returns it in the base unit of dim.
func ParseQuantity(s string, dim Dim) (float64, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && strings.ContainsRune("0123456789.eE+-_", rune(s[i])) {
		// an exponent sign only right after e/E
		if (s[i] == '+' || s[i] == '-') && i > 0 && s[i-1] != 'e' && s[i-1] != 'E' {
			break
		}
		// "e" can start a unit only if no digit follows; no unit starts with e
		i++
	}
	num, unit := strings.ReplaceAll(s[:i], "_", ""), strings.TrimSpace(s[i:])
	if num == "" {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	u, ok := units[unit]
	if !ok {
		return 0, fmt.Errorf("unknown unit %q in %q; want %s", unit, s, dim)
	}
	if u.dim != dim {
		if unit == "" {
			return 0, fmt.Errorf("%q needs a unit: want %s", s, dim)
		}
		return 0, fmt.Errorf("unit %q in %q is inconsistent: want %s", unit, s, dim)
	}
	r := v * u.f
	if math.Abs(r) > MaxQuantity {
		return 0, fmt.Errorf("%q is out of range for %s: its magnitude may be at most %g in the first unit", s, dim, MaxQuantity)
	}
	return r, nil
}

// MaxQuantity bounds every spec value in its base unit (B, Hz, B/s, pJ, um2,
// s, count): far beyond any machine (an exabyte is 1e18 B), and small enough
// that products of a few such values stay finite, so a typo such as
// 1e300GHz is an error rather than a NaN latency.
const MaxQuantity = 1e24

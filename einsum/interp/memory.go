package interp

import (
	"bufio"
	"fmt"
	"math"
	"math/bits"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/fusemax/fusemax/einsum"
)

// TensorBytes is the storage one tensor takes during a run.
type TensorBytes struct {
	Name  string
	Elems int64 // saturates at math.MaxInt64
	Bytes int64 // saturates at math.MaxInt64
}

// Footprint is what a run of a cascade at a shape allocates for tensors,
// computed from the declarations alone, before anything is allocated.
type Footprint struct {
	Tensors []TensorBytes // largest first
	Total   int64         // saturates at math.MaxInt64
}

// Bytes per element: float64 data; an input is held twice (the caller's
// tensor and the run's copy), every other tensor has a one-byte defined-mask.
const (
	inputBytesPerElem = 16
	otherBytesPerElem = 9
)

// FootprintOf sizes every tensor of c at sizes (split parts may be left for
// Bind to derive). Sizes whose products overflow saturate rather than wrap.
func FootprintOf(c *einsum.Cascade, sizes map[string]int64) (Footprint, error) {
	bound, _, err := c.Bind(sizes)
	if err != nil {
		return Footprint{}, err
	}
	var f Footprint
	for _, t := range c.Tensors {
		elems := int64(1)
		for i, d := range t.Dims {
			v, err := d.Extent.Eval(bound)
			if err != nil {
				return Footprint{}, fmt.Errorf("%s: extent of %s's dimension %d: %v", t.Pos, t.Name, i+1, err)
			}
			if v <= 0 {
				return Footprint{}, fmt.Errorf("%s: %s's dimension %d has extent %d", t.Pos, t.Name, i+1, v)
			}
			elems = mulSat(elems, v)
		}
		per := int64(otherBytesPerElem)
		if t.Kind == einsum.Input {
			per = inputBytesPerElem
		}
		b := mulSat(elems, per)
		f.Tensors = append(f.Tensors, TensorBytes{t.Name, elems, b})
		f.Total = addSat(f.Total, b)
	}
	sort.SliceStable(f.Tensors, func(i, j int) bool { return f.Tensors[i].Bytes > f.Tensors[j].Bytes })
	return f, nil
}

// Check returns an error when the run would need more than budget bytes,
// naming the largest tensors so the user sees which sizes to shrink.
func (f Footprint) Check(cascade string, budget int64) error {
	if f.Total <= budget {
		return nil
	}
	var top []string
	for _, t := range f.Tensors[:min(3, len(f.Tensors))] {
		top = append(top, fmt.Sprintf("%s %s elements (%s)", t.Name, count(t.Elems), FormatBytes(t.Bytes)))
	}
	return fmt.Errorf("cascade %s needs %s for its tensors at this shape, over the memory budget of %s (largest: %s); use a smaller --shape, or raise the budget with --max-memory",
		cascade, FormatBytes(f.Total), FormatBytes(budget), strings.Join(top, ", "))
}

func count(n int64) string {
	if n == math.MaxInt64 {
		return "over 9.2e18"
	}
	return strconv.FormatInt(n, 10)
}

// FormatBytes prints a byte count with a binary unit (1.5 GiB).
func FormatBytes(n int64) string {
	if n == math.MaxInt64 {
		return "over 8 EiB"
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, u := float64(n), 0
	for v >= 1024 && u < len(units)-1 {
		v, u = v/1024, u+1
	}
	if u == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, units[u])
}

// ParseBytes reads a byte count: an integer with an optional K, M, G or T
// suffix (binary, an optional trailing B or iB allowed): 512M, 8G, 1.5GiB.
func ParseBytes(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "B"), "i")
	mult := 1.0
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGT", t[n-1]&^0x20); i >= 0 {
			mult, t = math.Pow(1024, float64(i+1)), t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || v <= 0 || v*mult >= math.MaxInt64 {
		return 0, fmt.Errorf("%q is not a positive byte count (e.g. 512M, 8G)", s)
	}
	return int64(v * mult), nil
}

// MachineMemory is the memory available to a new allocation on this
// machine (MemAvailable of /proc/meminfo); ok is false where it is unknown.
func MachineMemory() (bytes int64, ok bool) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, found := strings.CutPrefix(sc.Text(), "MemAvailable:"); found {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err == nil && kb > 0
		}
	}
	return 0, false
}

func mulSat(a, b int64) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(lo)
}

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

package reproduce

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/lower/gpu"
	"github.com/fusemax/fusemax/specs"
	"github.com/fusemax/fusemax/workload"
)

// GPUKind is the `kind` of an experiment spec that predicts GPU kernel
// throughput (specs/experiments/flashattention.yaml) rather than the
// FuseMax artifact's tables.
const GPUKind = "gpu-throughput"

// GPUExperiment is a throughput experiment: kernel families on GPU specs
// over the published benchmark grid, compared with published tables.
type GPUExperiment struct {
	Name, File     string
	Cascade        string // the library cascade every dense row runs
	CausalCascade  string // "" : causal rows cannot be predicted
	Dtype          string
	Tokens, Hidden int64 // batch = tokens / seqlen, heads = hidden / headdim
	Seqlens        []int64
	Headdims       []int64
	Runs           []GPURun
	Fitted         []GPURow // rows the spec constants were fitted on
	Reference      string   // default folder of published CSVs
	MaxMean        float64  // targets on the published rows: mean |relative error|
	MaxAny         float64  // and the largest
}

// GPURun is one kernel family (a GPU mapping) on one GPU spec.
type GPURun struct {
	Mapping, GPU string
	Published    string // the published CSV that has this run's rows, or ""
}

// GPURow is one benchmark point: the published tables' key columns.
type GPURow struct {
	Kernel, GPU, Dtype string
	Headdim            int64
	Causal             bool
	Seqlen             int64
	Batch, Heads       int64
}

func (r GPURow) key() string {
	return fmt.Sprintf("%s|%s|%s|%d|%t|%d|%d|%d", r.Kernel, r.GPU, r.Dtype, r.Headdim, r.Causal, r.Seqlen, r.Batch, r.Heads)
}

// IsGPUExperiment reports whether ref names a throughput experiment spec.
func IsGPUExperiment(ref string) bool { return specs.KindOf("experiments", ref) == GPUKind }

// LoadGPUExperiment reads a throughput experiment spec by name or path.
func LoadGPUExperiment(ref string) (*GPUExperiment, error) {
	file, src, err := specs.Read("experiments", ref)
	if err != nil {
		return nil, err
	}
	d, err := specs.Parse(file, src)
	if err != nil {
		return nil, err
	}
	var errs specs.Errors
	o := d.Obj(d.Root, "experiment", &errs)
	x := &GPUExperiment{File: file, Name: o.Str("experiment", true), Cascade: o.Str("cascade", true),
		CausalCascade: o.Str("causal_cascade", false), Dtype: o.Str("dtype", true), Reference: o.Str("reference", false)}
	o.Str("kind", true)
	x.Tokens = lengthOf(o, "tokens")
	x.Hidden = o.Int("hidden", true, 1)
	x.Seqlens = lengths(o, "seqlen")
	x.Headdims = lengths(o, "headdim")
	for i, n := range list(d, o.Need("runs"), "runs", &errs) {
		r := d.Obj(n, fmt.Sprintf("runs[%d]", i), &errs)
		x.Runs = append(x.Runs, GPURun{Mapping: r.Str("mapping", true), GPU: r.Str("gpu", true), Published: r.Str("published", false)})
		r.Done()
	}
	for i, n := range list(d, o.Get("fitted"), "fitted", &errs) {
		r := d.Obj(n, fmt.Sprintf("fitted[%d]", i), &errs)
		x.Fitted = append(x.Fitted, GPURow{Kernel: r.Str("mapping", true), GPU: r.Str("gpu", true), Headdim: r.Int("headdim", true, 1), Seqlen: lengthOf(r, "seqlen")})
		r.Done()
	}
	t := o.Sub("targets", true)
	x.MaxMean, x.MaxAny = t.Num("mean_abs_error", specs.Count, true, 0), t.Num("max_abs_error", specs.Count, true, 0)
	t.Done()
	o.Done()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	for _, s := range x.Seqlens {
		if x.Tokens%s != 0 || x.Tokens/s < 1 {
			return nil, fmt.Errorf("%s: tokens %d is not a multiple of seqlen %d (batch = tokens / seqlen)", file, x.Tokens, s)
		}
	}
	for _, h := range x.Headdims {
		if x.Hidden%h != 0 {
			return nil, fmt.Errorf("%s: hidden %d is not a multiple of headdim %d (heads = hidden / headdim)", file, x.Hidden, h)
		}
	}
	return x, nil
}

func lengthOf(o *specs.Obj, key string) int64 {
	s := o.Str(key, true)
	if s == "" {
		return 0
	}
	n, err := workload.ParseLength(s)
	if err != nil {
		o.Failf(o.Get(key), "%s: %v", key, err)
	}
	return n
}

func lengths(o *specs.Obj, key string) []int64 {
	var out []int64
	for _, s := range o.StrList(key) {
		n, err := workload.ParseLength(s)
		if err != nil {
			o.Failf(o.Get(key), "%s: %v", key, err)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		o.Failf(nil, "experiment: %s lists no values", key)
	}
	return out
}

// GPUEvaluator simulates GPU rows through lower/gpu, the same path as
// `fusemax simulate --arch GPU --mapping ...`. It is safe for concurrent
// use: cascades are parsed once (by the Simulator's cache).
type GPUEvaluator struct{ kernels *Simulator }

// NewGPUEvaluator returns an evaluator backed by gpu.Simulate.
func NewGPUEvaluator() *GPUEvaluator { return &GPUEvaluator{kernels: NewSimulator()} }

// Evaluate simulates one row with the named cascade.
func (e *GPUEvaluator) Evaluate(cascade string, r GPURow) (*gpu.Report, error) {
	c, err := e.kernels.cascade(cascade)
	if err != nil {
		return nil, err
	}
	a, err := arch.Load(r.GPU, nil)
	if err != nil {
		return nil, err
	}
	m, err := gpu.LoadMapping(r.Kernel, nil)
	if err != nil {
		return nil, err
	}
	shape := map[string]int64{"B": r.Batch, "H": r.Heads, "E": r.Headdim, "F": r.Headdim, "M": r.Seqlen, "P": r.Seqlen}
	return gpu.Simulate(c, a, m, shape, r.Dtype)
}

// GPUResult is one predicted row, with the published value where there is
// one.
type GPUResult struct {
	Row       GPURow
	Report    *gpu.Report
	Published float64 // NaN: none
	Fitted    bool
	Err       error
}

// RelErr is the prediction's relative error against the published value.
func (r GPUResult) RelErr() float64 { return (r.Report.TFLOPS - r.Published) / r.Published }

// GPUOutput is a finished throughput reproduction.
type GPUOutput struct {
	Experiment *GPUExperiment
	Results    []GPUResult // grid order, then published rows the grid lacks
	RefDir     string      // "" when no published tables were read
}

// RunGPU predicts every row of the experiment's grid and every row of the
// published tables in refDir ("" for none), concurrently, in a fixed
// output order.
func RunGPU(x *GPUExperiment, ev *GPUEvaluator, refDir string, progress func(done, total int)) (*GPUOutput, error) {
	rows, pub, err := x.rows(refDir)
	if err != nil {
		return nil, err
	}
	out := &GPUOutput{Experiment: x, RefDir: refDir, Results: make([]GPUResult, len(rows))}
	fitted := map[string]bool{}
	for _, f := range x.Fitted {
		fitted[fmt.Sprintf("%s|%s|%d|%d", f.Kernel, f.GPU, f.Headdim, f.Seqlen)] = true
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	sem := make(chan struct{}, 4)
	for i, r := range rows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res := GPUResult{Row: r, Published: math.NaN(), Fitted: fitted[fmt.Sprintf("%s|%s|%d|%d", r.Kernel, r.GPU, r.Headdim, r.Seqlen)]}
			if v, ok := pub[r.key()]; ok {
				res.Published = v
			}
			cascade := x.Cascade
			if r.Causal {
				cascade = x.CausalCascade
			}
			if cascade == "" {
				res.Err = fmt.Errorf("a causal row, and the experiment names no causal_cascade")
			} else {
				res.Report, res.Err = ev.Evaluate(cascade, r)
			}
			out.Results[i] = res
			mu.Lock()
			done++
			if progress != nil {
				progress(done, len(rows))
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out, nil
}

// rows is the grid of every run, then each published row the grid lacks;
// pub maps row keys to published TFLOP/s.
func (x *GPUExperiment) rows(refDir string) ([]GPURow, map[string]float64, error) {
	var rows []GPURow
	seen := map[string]bool{}
	for _, run := range x.Runs {
		for _, hd := range x.Headdims {
			for _, s := range x.Seqlens {
				r := GPURow{Kernel: run.Mapping, GPU: run.GPU, Dtype: x.Dtype, Headdim: hd, Seqlen: s, Batch: x.Tokens / s, Heads: x.Hidden / hd}
				rows = append(rows, r)
				seen[r.key()] = true
			}
		}
	}
	pub := map[string]float64{}
	if refDir == "" {
		return rows, pub, nil
	}
	files := map[string]bool{}
	for _, run := range x.Runs {
		if run.Published != "" {
			files[run.Published] = true
		}
	}
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		got, err := readPublished(filepath.Join(refDir, f))
		if err != nil {
			return nil, nil, err
		}
		for _, p := range got {
			if !seen[p.row.key()] {
				rows = append(rows, p.row)
				seen[p.row.key()] = true
			}
			pub[p.row.key()] = p.tflops
		}
	}
	return rows, pub, nil
}

type published struct {
	row    GPURow
	tflops float64
}

// readPublished reads a published throughput table (kernel, gpu, dtype,
// headdim, causal, seqlen, batch, heads, tflops).
func readPublished(path string) ([]published, error) {
	t, err := ReadTableFile(path, 8)
	if err != nil {
		return nil, err
	}
	want := []string{"kernel", "gpu", "dtype", "headdim", "causal", "seqlen", "batch", "heads", "tflops"}
	if strings.Join(t.Cols, ",") != strings.Join(want, ",") {
		return nil, fmt.Errorf("%s: columns %s, want %s", path, strings.Join(t.Cols, ","), strings.Join(want, ","))
	}
	var out []published
	for i, r := range t.Rows {
		k := r.Keys
		ints := make([]int64, 4)
		for j, c := range []int{3, 5, 6, 7} {
			n, err := strconv.ParseInt(k[c], 10, 64)
			if err != nil || n < 1 || n > 1<<30 {
				return nil, fmt.Errorf("%s:%d: %s %q is not a positive whole number", path, i+2, want[c], k[c])
			}
			ints[j] = n
		}
		causal, err := strconv.ParseBool(k[4])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: causal %q is not true or false", path, i+2, k[4])
		}
		out = append(out, published{row: GPURow{Kernel: k[0], GPU: k[1], Dtype: k[2], Headdim: ints[0], Causal: causal, Seqlen: ints[1], Batch: ints[2], Heads: ints[3]}, tflops: r.Vals[0]})
	}
	return out, nil
}

package llvm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"

	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/tensor"
)

// Tools are the external programs the backend runs.
type Tools struct {
	Opt, LLC, CC string
	Triple       string // llc's default target triple
	// identity names the tools' versions for the build cache's key.
	identity string
}

// ErrNoTools is wrapped by FindTools when LLVM 14 or gcc is missing.
var ErrNoTools = errors.New("LLVM tools not found")

// Verify runs opt -verify on the module's IR.
func Verify(ctx context.Context, m *Module) error {
	t, err := FindTools()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, t.Opt, "-verify", "-disable-output")
	cmd.Stdin = strings.NewReader(m.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("opt -verify rejected the IR for %s: %v\n%s", m.Cascade.Name, err, stderr.String())
	}
	return nil
}

// Result is what one execution produced.
type Result struct {
	// Tensors holds the inputs (as the kernel saw them: rounded to the
	// compute and storage types) and the outputs, as float64.
	Tensors map[string]*tensor.Dense
	// Seconds is the fastest kernel call, excluding I/O and process start.
	Seconds float64
	// CPUSeconds is the least CPU time of a kernel call (all workers): on a
	// shared machine it does not count time the kernel waited for a core.
	CPUSeconds float64
	// MaxRSSKiB is the driver's peak resident set size (VmHWM). With
	// several workers it is the first worker's, which holds the shared
	// buffers; each other worker adds its own intermediates (WorkBytes).
	MaxRSSKiB int64
	// Counts are element reads and writes per tensor (CountAccesses only).
	Counts map[string]Access
	// Threads is how many workers the kernel ran on, and SingleThreadWhy
	// why Options.Threads could not be honoured (Module.Threads).
	Threads         int
	SingleThreadWhy string
	// WorkBytes is the memory of the intermediates.
	WorkBytes int64
}

// Access counts element accesses of one tensor. Reads and Writes are every
// operand read and every point a statement defines. TileReads and
// TileWrites count an element once per tile of the rank hoisted around an
// iterate block (once per group of a mapping), and once more for the
// statements outside the tile loop: the traffic to memory of a buffer that
// holds one tile's working set (docs/llvm.md, "Instrumentation and the
// simulator").
type Access struct{ Reads, Writes, TileReads, TileWrites int64 }

// Run executes c through the LLVM backend, with the same contract as the
// reference interpreter's Run: sizes are bound (c.Bind), inputs are keyed
// by name, and the result holds every input and output tensor.
func Run(c *einsum.Cascade, sizes map[string]int64, inputs map[string]*tensor.Dense, opts Options) (map[string]*tensor.Dense, error) {
	r, err := Exec(context.Background(), c, sizes, inputs, opts)
	if err != nil {
		return nil, err
	}
	return r.Tensors, nil
}

// Exec compiles c at sizes, runs it on inputs and returns the outputs with
// timing, memory and (optionally) access counts. Build files go to a
// temporary directory that is removed afterwards (Options.KeepDir keeps them).
func Exec(ctx context.Context, c *einsum.Cascade, sizes map[string]int64, inputs map[string]*tensor.Dense, opts Options) (*Result, error) {
	vals := map[string]tensor.Values{}
	seen := map[string]*tensor.Dense{}
	for _, t := range c.Inputs {
		in, ok := inputs[t.Name]
		if !ok {
			return nil, fmt.Errorf("cascade %s: no value for input %s", c.Name, t.Name)
		}
		want := t.Shape(sizes)
		if !in.SameShape(&tensor.Dense{Shape: want}) {
			return nil, fmt.Errorf("cascade %s: input %s has shape %v, want %v", c.Name, t.Name, in.Shape, want)
		}
		seen[t.Name] = asKernelSees(in, opts)
		vals[t.Name] = tensor.DenseValues(seen[t.Name])
	}
	out := map[string]*tensor.Dense{}
	collect := func(t *einsum.Tensor, v tensor.Values) error {
		if d := seen[t.Name]; d != nil {
			out[t.Name] = d
			return nil
		}
		d := tensor.New(t.Shape(sizes)...)
		i := 0
		err := v(func(x float64) error { d.Data[i] = x; i++; return nil })
		out[t.Name] = d
		return err
	}
	res, err := ExecValues(ctx, c, sizes, vals, collect, opts)
	if err != nil {
		return nil, err
	}
	res.Tensors = out
	return res, nil
}

// ExecValues is Exec over streams, for tensors too large to hold twice:
// each input's elements come from inputs (row-major, rounded here to the
// kernel's types), and once the kernel has run, sink receives every input
// (as the kernel saw it) and then every output, in declaration order, each
// as a stream read from the driver's files. Result.Tensors is nil.
func ExecValues(ctx context.Context, c *einsum.Cascade, sizes map[string]int64, inputs map[string]tensor.Values,
	sink func(t *einsum.Tensor, v tensor.Values) error, opts Options) (*Result, error) {
	tools, err := FindTools()
	if err != nil {
		return nil, err
	}
	m, err := Generate(c, sizes, opts)
	if err != nil {
		return nil, err
	}
	res := &Result{WorkBytes: m.WorkBytes, Threads: m.Threads, SingleThreadWhy: m.SingleThreadWhy}
	for _, t := range c.Inputs {
		if inputs[t.Name] == nil {
			return nil, fmt.Errorf("cascade %s: no value for input %s", c.Name, t.Name)
		}
	}
	dir := opts.KeepDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "fusemax-llvm-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bin, err := build(ctx, tools, m, dir)
	if err != nil {
		return nil, err
	}
	raw := func(t *einsum.Tensor) string { return filepath.Join(dir, sanitize(t.Name)+".bin") }
	for _, t := range c.Inputs {
		n := tensor.NumElems(t.Shape(sizes))
		if err := writeRaw(raw(t), inputs[t.Name], n, opts); err != nil {
			return nil, fmt.Errorf("input %s: %w", t.Name, err)
		}
	}
	cmd := exec.CommandContext(ctx, bin, dir, strconv.Itoa(max(opts.Reps, 1)))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("running the compiled %s: %v\n%s", c.Name, err, stderr.String())
	}
	if err := readStats(filepath.Join(dir, "stats.txt"), res, c); err != nil {
		return nil, err
	}
	for _, t := range append(append([]*einsum.Tensor{}, c.Inputs...), c.Outputs...) {
		if err := sink(t, rawValues(raw(t), tensor.NumElems(t.Shape(sizes)), opts.DType)); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// round is v in the compute type, then in the storage type.
func (opts Options) round(v float64) float64 {
	if opts.DType != tensor.F64 {
		v = float64(float32(v))
	}
	if opts.Storage == StorageBF16 {
		v = RoundBF16(v)
	}
	return v
}

// asKernelSees is in rounded to the compute and storage types. It is in
// itself, not a copy, when rounding changes nothing (an f32 input read
// from an f32 file), so that large inputs are not held twice.
func asKernelSees(in *tensor.Dense, opts Options) *tensor.Dense {
	round := opts.round
	exact := true
	for _, v := range in.Data {
		if r := round(v); r != v && !(r != r && v != v) {
			exact = false
			break
		}
	}
	if exact {
		return in
	}
	out := in.Clone()
	for i, v := range out.Data {
		out.Data[i] = round(v)
	}
	return out
}

// build writes the IR and the driver to dir and returns an executable: the
// build cache's entry for them when there is one, else a fresh build (opt
// -O3, llc -O3 for the host CPU, gcc for the driver), which it then caches.
func build(ctx context.Context, t Tools, m *Module, dir string) (string, error) {
	ir := m.String()
	drv, err := driverSource(m)
	if err != nil {
		return "", err
	}
	ll := filepath.Join(dir, "kernel.ll")
	if err := os.WriteFile(ll, []byte(ir), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "driver.c"), drv, 0o644); err != nil {
		return "", err
	}
	// 512-bit vectors: LLVM prefers 256 bits on AVX-512 parts by default,
	// which halves the width of every vectorised loop here.
	target := []string{"-mcpu=native", "-mattr=-prefer-256-bit"}
	if t.Triple != "" {
		target = append(target, "-mtriple="+t.Triple)
	}
	cache := cacheDir()
	key := cacheKey(t, target, ir, drv)
	if bin, ok := cached(cache, key); ok {
		return bin, nil
	}
	// The driver compiles while opt and llc run (two cores: about 0.1 s of
	// a cold build); then both objects are linked.
	driverObj := filepath.Join(dir, "driver.o")
	cc := make(chan error, 1)
	go func() { cc <- buildStep(ctx, m, t.CC, "-O2", "-c", filepath.Join(dir, "driver.c"), "-o", driverObj) }()
	err = buildStep(ctx, m, t.Opt, append(append([]string{"-O3", "-verify"}, target...), ll, "-o", filepath.Join(dir, "kernel.bc"))...)
	if err == nil {
		err = buildStep(ctx, m, t.LLC, append(append([]string{"-O3", "-relocation-model=pic", "-filetype=obj"}, target...), filepath.Join(dir, "kernel.bc"), "-o", filepath.Join(dir, "kernel.o"))...)
	}
	if cerr := <-cc; err == nil {
		err = cerr
	}
	if err == nil {
		err = buildStep(ctx, m, t.CC, driverObj, filepath.Join(dir, "kernel.o"), "-o", filepath.Join(dir, "kernel"), "-lm")
	}
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "kernel")
	store(cache, key, bin)
	return bin, nil
}

// buildStep runs one tool of the build, its output in the error.
func buildStep(ctx context.Context, m *Module, tool string, args ...string) error {
	cmd := exec.CommandContext(ctx, tool, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building %s: %s: %v\n%s", m.Cascade.Name, filepath.Base(tool), err, out.String())
	}
	return nil
}

// writeRaw streams the n elements of vals to path as raw little-endian
// elements of the compute type, rounded as the kernel sees them.
func writeRaw(path string, vals tensor.Values, n int, opts Options) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<16)
	count := 0
	err = vals(func(v float64) error {
		if count++; count > n {
			return fmt.Errorf("more than the %d elements of its shape", n)
		}
		tensor.PutRaw(w, opts.round(v), opts.DType)
		return nil
	})
	if err == nil && count != n {
		err = fmt.Errorf("%d elements, its shape has %d", count, n)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// rawValues streams a raw file of n elements of dt written by the driver.
func rawValues(path string, n int, dt tensor.DType) tensor.Values {
	return func(emit func(float64) error) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		size := 4
		if dt == tensor.F64 {
			size = 8
		}
		if st, err := f.Stat(); err != nil || st.Size() != int64(size*n) {
			return fmt.Errorf("%s: not the %d bytes the driver should have written", path, size*n)
		}
		chunk := make([]byte, 1<<16)
		for left := n; left > 0; {
			k := min(left, len(chunk)/size)
			if _, err := io.ReadFull(f, chunk[:k*size]); err != nil {
				return fmt.Errorf("%s: %v", path, err)
			}
			for i := 0; i < k*size; i += size {
				var v float64
				if dt == tensor.F64 {
					v = math.Float64frombits(binary.LittleEndian.Uint64(chunk[i:]))
				} else {
					v = float64(math.Float32frombits(binary.LittleEndian.Uint32(chunk[i:])))
				}
				if err := emit(v); err != nil {
					return err
				}
			}
			left -= k
		}
		return nil
	}
}

func readStats(path string, r *Result, c *einsum.Cascade) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) == 2 && fs[0] == "seconds":
			r.Seconds, _ = strconv.ParseFloat(fs[1], 64)
		case len(fs) == 2 && fs[0] == "cpu_seconds":
			r.CPUSeconds, _ = strconv.ParseFloat(fs[1], 64)
		case len(fs) == 2 && fs[0] == "maxrss_kib":
			r.MaxRSSKiB, _ = strconv.ParseInt(fs[1], 10, 64)
		case len(fs) == 6 && fs[0] == "count":
			i, _ := strconv.Atoi(fs[1])
			var n [4]int64
			for k := range n {
				n[k], _ = strconv.ParseInt(fs[2+k], 10, 64)
			}
			if r.Counts == nil {
				r.Counts = map[string]Access{}
			}
			if i >= 0 && i < len(c.Tensors) {
				r.Counts[c.Tensors[i].Name] = Access{n[0], n[1], n[2], n[3]}
			}
		}
	}
	return sc.Err()
}

// driverSource generates the C program that loads the inputs, calls the
// kernel Reps times and writes the outputs and stats.txt.
func driverSource(m *Module) ([]byte, error) {
	type buf struct {
		Name, File string
		N          int64
		Input      bool
	}
	data := struct {
		Func, T string
		Bufs    []buf
		Count   bool
		NT      int
		Threads int
		Phases  bool
		Masks   []buf
	}{Func: m.Func, T: "float", Count: m.Opts.CountAccesses, NT: len(m.Cascade.Tensors), Threads: m.Threads, Phases: m.phases}
	if m.Opts.DType == tensor.F64 {
		data.T = "double"
	}
	for i, t := range m.MaskParams {
		data.Masks = append(data.Masks, buf{Name: fmt.Sprintf("k%d", i), N: m.MaskElems(t)})
	}
	for i, t := range m.Params {
		data.Bufs = append(data.Bufs, buf{Name: fmt.Sprintf("b%d", i), File: sanitize(t.Name) + ".bin",
			N: int64(tensor.NumElems(t.Shape(m.Sizes))), Input: t.Kind == einsum.Input})
	}
	var out bytes.Buffer
	err := driverTmpl.Execute(&out, data)
	return out.Bytes(), err
}

var driverTmpl = template.Must(template.New("driver").Parse(`/* Generated by fusemax: runs {{.Func}} on raw little-endian buffers. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/resource.h>

typedef {{.T}} T;
{{- define "args"}}{{range $i, $b := .Bufs}}{{if $i}}, {{end}}{{.Name}}{{end}}{{range .Masks}}, {{.Name}}{{end}}{{end}}
{{- define "params"}}{{range $i, $b := .Bufs}}{{if $i}}, {{end}}T *{{end}}{{range .Masks}}, char *{{end}}{{end}}
extern void {{.Func}}({{template "params" .}}{{if .Count}}, long long *{{end}}{{if gt .Threads 1}}, long long, long long *{{end}});
{{- if .Phases}}
extern void {{.Func}}_init({{template "params" .}});
extern void {{.Func}}_check({{template "params" .}});
{{- end}}
{{- if gt .Threads 1}}
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
{{- range .Bufs}}
static T *{{.Name}};
{{- end}}
{{- range .Masks}}
static char *{{.Name}};
{{- end}}
/* The workers claim tiles from *next_tile (the kernel adds to it atomically). */
static long long *next_tile;
static void part(long long w) { {{.Func}}({{template "args" .}}, w, next_tile); }

/* The workers are processes sharing the buffers, not threads of one
   process: on the virtual machines this was measured on, two threads of one
   address space each ran the kernel 40% slower than two processes did
   (docs/llvm.md). A worker that fails has printed why; the run fails. */
static void run(void) {
	pid_t pid[{{.Threads}}];
	*next_tile = 0;
{{- if .Phases}}
	{{.Func}}_init({{template "args" .}});
{{- end}}
	fflush(NULL);
	for (int i = 1; i < {{.Threads}}; i++) {
		pid[i] = fork();
		if (pid[i] < 0) { fprintf(stderr, "driver: cannot start a worker process\n"); exit(1); }
		if (pid[i] == 0) {
#ifdef __linux__
			prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
			part(i);
			_exit(0);
		}
	}
	part(0);
	int failed = 0;
	for (int i = 1; i < {{.Threads}}; i++) {
		int st;
		if (waitpid(pid[i], &st, 0) != pid[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) failed = 1;
	}
	if (failed) exit(1);
{{- if .Phases}}
	{{.Func}}_check({{template "args" .}});
{{- end}}
}

/* Memory the workers share: zeroed pages, MAP_SHARED so that each
   worker's writes reach the others. */
static void *shared(size_t bytes) {
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static double children_cpu(void) {
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}
{{- end}}

static const char *dir;

static void die(const char *what, const char *file) {
	fprintf(stderr, "driver: %s %s/%s\n", what, dir, file);
	exit(1);
}

/* Inputs are then loaded whole, so only their padding is cleared. A buffer
   of 2 MiB or more is asked for in huge pages: at N = 16384 that is 156
   page faults instead of 4239, 50-80 ms of a 0.7 s run on the machine this
   was measured on. */
static T *alloc(size_t n, int input) {
	size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
{{- if gt .Threads 1}}
	T *p = shared(bytes);
{{- else}}
	const size_t huge = (size_t)2 << 20;
	T *p;
	if (bytes >= huge) {
		bytes = (bytes + huge - 1) / huge * huge;
		p = aligned_alloc(huge, bytes);
#ifdef MADV_HUGEPAGE
		if (p) madvise(p, bytes, MADV_HUGEPAGE);
#endif
	} else {
		p = aligned_alloc(64, bytes);
	}
{{- end}}
	if (!p) die("out of memory for", "buffer");
	if (input) memset((char *)p + n * sizeof(T), 0, bytes - n * sizeof(T));
	else memset(p, 0, bytes);
	return p;
}

static void load(T *p, size_t n, const char *file) {
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	FILE *f = fopen(path, "rb");
	if (!f || fread(p, sizeof(T), n, f) != n) die("cannot read", file);
	fclose(f);
}

static void save(const T *p, size_t n, const char *file) {
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, sizeof(T), n, f) != n || fclose(f) != 0) die("cannot write", file);
}

int main(int argc, char **argv) {
	if (argc != 3) { fprintf(stderr, "usage: %s DIR REPS\n", argv[0]); return 2; }
	dir = argv[1];
	int reps = atoi(argv[2]);
{{- range .Bufs}}
	{{if le $.Threads 1}}T *{{end}}{{.Name}} = alloc({{.N}}, {{if .Input}}1{{else}}0{{end}});{{if .Input}} load({{.Name}}, {{.N}}, "{{.File}}");{{end}}
{{- end}}
{{- range .Masks}}
	{{.Name}} = shared({{.N}});
	if (!{{.Name}}) die("out of memory for", "mask");
{{- end}}
{{- if gt .Threads 1}}
	next_tile = shared(sizeof *next_tile);
	if (!next_tile) die("out of memory for", "tile counter");
{{- end}}
{{- if .Count}}
	static long long counts[4 * {{.NT}}];
{{- end}}
	double best = 1e300, bestcpu = 1e300;
	for (int r = 0; r < (reps < 1 ? 1 : reps); r++) {
{{- if .Count}}
		memset(counts, 0, sizeof counts);
{{- end}}
		struct timespec t0, t1, c0, c1;
		double w0 = 0;
{{- if gt .Threads 1}}
		w0 = children_cpu();
{{- end}}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		{{if gt .Threads 1}}run();{{else}}{{.Func}}({{template "args" .}}{{if .Count}}, counts{{end}});{{end}}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
		double s = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
		double c = (c1.tv_sec - c0.tv_sec) + 1e-9 * (c1.tv_nsec - c0.tv_nsec);
{{- if gt .Threads 1}}
		c += children_cpu() - w0;
{{- end}}
		if (s < best) best = s;
		if (c < bestcpu) bestcpu = c;
	}
{{- range .Bufs}}{{if not .Input}}
	save({{.Name}}, {{.N}}, "{{.File}}");
{{- end}}{{end}}
	/* VmHWM is this program's own peak: getrusage's ru_maxrss survives exec
	   on Linux and so would report the parent's resident set. */
	long hwm = -1;
	FILE *st = fopen("/proc/self/status", "r");
	if (st) {
		char line[256];
		while (fgets(line, sizeof line, st))
			if (sscanf(line, "VmHWM: %ld", &hwm) == 1) break;
		fclose(st);
	}
	if (hwm < 0) {
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		hwm = ru.ru_maxrss;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/stats.txt", dir);
	FILE *f = fopen(path, "w");
	if (!f) die("cannot write", "stats.txt");
	fprintf(f, "seconds %.9f\ncpu_seconds %.9f\nmaxrss_kib %ld\n", best, bestcpu, hwm);
{{- if .Count}}
	for (int i = 0; i < {{.NT}}; i++) fprintf(f, "count %d %lld %lld %lld %lld\n", i, counts[4 * i], counts[4 * i + 1], counts[4 * i + 2], counts[4 * i + 3]);
{{- end}}
	if (fclose(f) != 0) die("cannot write", "stats.txt");
	return 0;
}
`))

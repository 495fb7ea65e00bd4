package arch

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/specs"
)

// GPU is a tile architecture: many identical streaming multiprocessors
// (SMs) sharing an L2 cache and HBM. A spec with `kind: gpu` decodes to a
// Spec whose GPU field is set (and whose Memories and Arrays are empty:
// the SM's units are not PE arrays).
type GPU struct {
	SMs int64
	// ClockHz is the SM clock behind the peak rates (Spec.ClockHz too).
	ClockHz float64
	SM      SM
	HBM     GlobalMemory
	L2      GlobalMemory
	// EnergyModelled is false when the spec gives no energies (the report
	// says so rather than printing zero).
	EnergyModelled bool
}

// SM is one streaming multiprocessor.
type SM struct {
	// MMA is the dense tensor-core rate of each instruction path (mma_sync,
	// wgmma) in FLOP per clock per SM, by dtype (fp16, bf16, fp8, tf32).
	MMA map[string]map[string]float64
	// MMAEfficiency is the share of the path's peak a long stream of tile
	// products sustains (operand fetch, issue and dependency stalls).
	MMAEfficiency float64
	// Contention is the share of a softmax step's time that the tensor
	// cores lose while the same SM runs it for another warp: the step's
	// instructions compete for the schedulers and register file.
	Contention float64
	FMALanes   float64 // FP32 results per clock (FMA pipe)
	SFULanes   float64 // special-function results per clock (exp2, rcp, ...)
	// Ops says how each cascade operation runs on the pipes: op → pipe
	// (fma, sfu) → instructions per element.
	Ops map[string]map[string]float64
	// Convert is the FMA-pipe cost of converting one fp32 element to the
	// MMA dtype (a product's operand made by the FMA pipe).
	Convert          float64
	RegisterFile     float64 // bytes per SM
	RegistersPerThrd int64   // most registers one thread may hold
	MaxThreads       int64
	MaxCTAs          int64
	SharedCapacity   float64 // bytes per SM usable as shared memory
	SharedPerCTA     float64 // most bytes one CTA may allocate
	SharedBytesClk   float64 // shared-memory bandwidth, bytes per clock
	// Copy lists the bulk global→shared copy engines the SM has (cp_async,
	// tma), so a mapping that needs one can say which is missing.
	Copy []string
	// SetMaxNReg: the SM can move registers between warpgroups.
	SetMaxNReg bool
}

// GlobalMemory is L2 or HBM: shared by every SM.
type GlobalMemory struct {
	Capacity  float64 // bytes
	Bandwidth float64 // bytes per second
	// Latency is the time from a load's issue to its first data, in SM
	// clocks.
	Latency float64
}

// Pipes lists the SM pipes an operation may name in SM.Ops.
var Pipes = []string{"fma", "sfu"}

// isGPU reports whether a spec document declares `kind: gpu`.
func isGPU(d *specs.Doc) bool { return d.Top("kind") == "gpu" }

// decodeGPU validates a `kind: gpu` spec.
func decodeGPU(d *specs.Doc) (*Spec, error) {
	var errs specs.Errors
	top := d.Obj(d.Root, "arch", &errs)
	top.Str("kind", true)
	s := &Spec{File: d.File, Name: top.Str("name", true), WordBytes: 2}
	g := &GPU{SMs: top.Int("sms", true, 1), ClockHz: top.Num("clock", specs.Frequency, true, 1)}
	s.ClockHz = g.ClockHz
	g.SM = decodeSM(top.Sub("sm", true), &errs)
	mem := top.Sub("memory", true)
	g.HBM = decodeGlobal(mem.Sub("HBM", true))
	g.L2 = decodeGlobal(mem.Sub("L2", true))
	mem.Done()
	if top.Get("energy") != nil {
		top.Failf(top.Get("energy"), "arch.energy: per-action GPU energies are not modelled yet; leave the key out (the report says energy is not modelled)")
	}
	top.Done()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	s.GPU = g
	return s, nil
}

func decodeGlobal(o *specs.Obj) GlobalMemory {
	m := GlobalMemory{Capacity: o.Num("capacity", specs.Bytes, true, 1), Latency: o.Num("latency", specs.Count, true, 0),
		Bandwidth: o.Num("bandwidth", specs.Bandwidth, true, 1)}
	o.Done()
	return m
}

func decodeSM(o *specs.Obj, errs *specs.Errors) SM {
	sm := SM{MMA: map[string]map[string]float64{}, Ops: map[string]map[string]float64{}}
	t := o.Sub("tensor", true)
	paths := t.Sub("flops_per_clock", true)
	for _, p := range paths.Keys() {
		x := paths.Sub(p, true)
		sm.MMA[p] = map[string]float64{}
		for _, dt := range x.Keys() {
			sm.MMA[p][dt] = x.Num(dt, specs.Count, true, 1)
		}
		x.Done()
	}
	paths.Done()
	if paths.Node != nil && len(sm.MMA) == 0 {
		paths.Failf(nil, "arch.sm.tensor.flops_per_clock lists no instruction path (mma_sync, wgmma)")
	}
	sm.MMAEfficiency = t.Num("efficiency", specs.Count, true, 0.01)
	if sm.MMAEfficiency > 1 {
		t.Failf(t.Get("efficiency"), "arch.sm.tensor.efficiency is a share of the peak and must be at most 1")
	}
	sm.Contention = t.Num("softmax_contention", specs.Count, true, 0)
	if sm.Contention > 1 {
		t.Failf(t.Get("softmax_contention"), "arch.sm.tensor.softmax_contention is a share and must be at most 1")
	}
	t.Done()
	sm.FMALanes = pipeLanes(o.Sub("fma", true))
	sm.SFULanes = pipeLanes(o.Sub("sfu", true))
	decodeOps(o.Sub("ops", true), &sm)
	rf := o.Sub("registers", true)
	sm.RegisterFile = rf.Num("file", specs.Bytes, true, 4)
	sm.RegistersPerThrd = rf.Int("per_thread", true, 1)
	rf.Done()
	sm.MaxThreads = o.Int("max_threads", true, 32)
	sm.MaxCTAs = o.Int("max_ctas", true, 1)
	sh := o.Sub("shared", true)
	sm.SharedCapacity = sh.Num("capacity", specs.Bytes, true, 1)
	sm.SharedPerCTA = sh.Num("per_cta", specs.Bytes, true, 1)
	sm.SharedBytesClk = sh.Num("bytes_per_clock", specs.Count, true, 1)
	sh.Done()
	if sm.SharedPerCTA > sm.SharedCapacity && sh.Node != nil {
		sh.Failf(sh.Get("per_cta"), "arch.sm.shared.per_cta exceeds the SM's capacity")
	}
	sm.Copy = o.StrList("copy")
	for _, c := range sm.Copy {
		if c != "cp_async" && c != "tma" {
			o.Failf(o.Get("copy"), "arch.sm.copy: unknown copy engine %q (known: cp_async, tma)", c)
		}
	}
	switch v := o.Str("setmaxnreg", false); v {
	case "", "false":
	case "true":
		sm.SetMaxNReg = true
	default:
		o.Failf(o.Get("setmaxnreg"), "arch.sm.setmaxnreg must be true or false, not %q", v)
	}
	o.Done()
	return sm
}

// pipeLanes reads a pipe's `lanes` (results per clock per SM).
func pipeLanes(o *specs.Obj) float64 {
	v := o.Num("lanes", specs.Count, true, 1)
	o.Done()
	return v
}

func decodeOps(o *specs.Obj, sm *SM) {
	for _, op := range o.Keys() {
		if op == "convert" {
			sm.Convert = o.Num("convert", specs.Count, true, 0)
			continue
		}
		x := o.Sub(op, true)
		cost := map[string]float64{}
		for _, p := range x.Keys() {
			if !contains(Pipes, p) {
				x.Failf(x.KeyNode(p), "arch.sm.ops.%s: unknown pipe %q (known: %s)", op, p, strings.Join(Pipes, ", "))
			}
			cost[p] = x.Num(p, specs.Count, true, 0)
		}
		x.Done()
		sm.Ops[op] = cost
	}
	o.Done()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Peak is the dense tensor-core rate of an instruction path and dtype, in
// FLOP/s over the whole GPU.
func (g *GPU) Peak(path, dtype string) float64 {
	return g.SM.MMA[path][dtype] * float64(g.SMs) * g.ClockHz
}

// Paths lists the tensor-core instruction paths, sorted.
func (sm *SM) Paths() []string {
	var out []string
	for p := range sm.MMA {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// describe is Describe for a GPU spec.
func (g *GPU) describe(name string) string {
	var paths []string
	for _, p := range g.SM.Paths() {
		paths = append(paths, fmt.Sprintf("%s %.0f TFLOP/s fp16", p, g.Peak(p, "fp16")/1e12))
	}
	return fmt.Sprintf("%s: %d SMs at %.0f MHz, %s, L2 %.0f MiB, HBM %.0f GB/s", name, g.SMs, g.ClockHz/1e6,
		strings.Join(paths, ", "), g.L2.Capacity/(1<<20), g.HBM.Bandwidth/1e9)
}

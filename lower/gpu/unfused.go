package gpu

import (
	"fmt"
	"math"
	"strings"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/einsum"
	"github.com/fusemax/fusemax/sim"
)

// kernel is one launch of an unfused mapping: one Einsum over its whole
// iteration space, every operand read from and the result written to HBM.
type kernel struct {
	name       string
	ctas       int64
	flops      float64 // per CTA, on the tensor cores
	fma, sfu   float64 // per CTA, instructions
	l2, hbm    float64 // bytes per CTA
	product    bool
	usefulFLOP float64
}

// waveWindow is how many waves of one kernel may be in flight on an SM's
// units at once. Any window of 2 or more leaves every unit's throughput as
// it was (the slowest unit never waits; checked: the same latency at 1K to
// 64K on h100 and h200) and lets the engine step over the waves: 4K on 768
// instances went from 506900 simulated operations to 520.
const waveWindow = 4

// simulateUnfused runs each Einsum of a cascade as its own kernel, in
// order, intermediates through HBM: the standard (PyTorch) attention path.
func simulateUnfused(c *einsum.Cascade, a *arch.Spec, m *Mapping, shape map[string]int64, dtype string, bytes float64) (*Report, error) {
	if len(c.Loops) > 0 {
		return nil, m.errorAt("style", false, "mapping %s launches one kernel per Einsum; cascade %s has an iterate loop (%s at %s), which would be a launch per step: map it with fa2 or fa3", m.Name, c.Name, c.Loops[0].Var.Name, c.Loops[0].Pos)
	}
	g := a.GPU
	inst := int64(1)
	s := map[string]int64{}
	for k, v := range shape {
		if c.Rank(k) != nil {
			s[k] = v
			continue
		}
		if !contains(m.Instances, k) {
			return nil, fmt.Errorf("--shape names %s, which cascade %s lacks and mapping %s does not list among its instances (%s)", k, c.Name, m.Name, strings.Join(m.Instances, ", "))
		}
		inst *= v
	}
	sizes, _, err := c.Bind(s)
	if err != nil {
		return nil, err
	}
	var ks []kernel
	for _, e := range c.Einsums {
		k, err := unfusedKernel(e, &g.SM, m, sizes, inst, bytes, g.HBM.Capacity)
		if err != nil {
			return nil, err
		}
		if k.ctas > 0 {
			ks = append(ks, k)
		}
	}
	peak := g.SM.MMA[m.MMA][dtype]
	sched := &sim.Schedule{ClockHz: g.ClockHz, EnergyPJ: map[string]float64{}}
	for _, n := range unitNames {
		sched.Units = append(sched.Units, sim.Unit{Name: n, Memory: n == "hbm"})
	}
	root := &sim.Loop{Name: "kernels", Count: 1}
	sched.Root = root
	var prev []*sim.Op
	var useful float64
	var ctas int64
	for _, k := range ks {
		act := float64(min(g.SMs, k.ctas))
		l := &sim.Loop{Name: k.name, Count: (k.ctas + g.SMs - 1) / g.SMs}
		ops := []*sim.Op{
			{Name: k.name + " products", Einsum: k.name, Unit: uTensor, Cycles: k.flops / (peak * g.SM.MMAEfficiency), PEFrac: 1},
			{Name: k.name + " (FMA)", Einsum: k.name, Unit: uFMA, Cycles: k.fma / g.SM.FMALanes, PEFrac: 1},
			{Name: k.name + " (SFU)", Einsum: k.name, Unit: uSFU, Cycles: k.sfu / g.SM.SFULanes, PEFrac: 1},
			{Name: k.name + " L2", Unit: uL2, Cycles: k.l2 / (g.L2.Bandwidth / g.ClockHz / act), PEFrac: 1, Latency: g.HBM.Latency},
			{Name: k.name + " HBM", Unit: uHBM, Cycles: k.hbm / (g.HBM.Bandwidth / g.ClockHz / act), PEFrac: 1, Bytes: k.hbm},
		}
		for _, o := range ops {
			for _, p := range prev {
				o.Deps = append(o.Deps, sim.Dep{Op: p, Loop: root})
			}
			// A wave starts once the wave waveWindow back has ended on every
			// unit: without the bound, each unit runs ahead at its own rate,
			// the state never repeats and every wave is simulated.
			for _, p := range ops {
				o.Deps = append(o.Deps, sim.Dep{Op: p, Loop: l, Back: waveWindow})
			}
			l.Body = append(l.Body, o)
		}
		root.Body = append(root.Body, l)
		prev = ops
		useful += k.usefulFLOP
		ctas += k.ctas
	}
	res, err := sim.Run(sched, sim.Options{})
	if err != nil {
		return nil, err
	}
	rep := &Report{Kernel: c.Name, Arch: a.Name, Mapping: m.Name, Dtype: dtype, Shape: sizes, LatencyS: res.Seconds, Cycles: res.Cycles,
		UsefulFLOPs: useful, Utilization: res.Utilization, PhaseActivity: res.Activity, HBMBytes: res.TrafficBytes * float64(g.SMs),
		Grid: GridReport{CTAs: ctas, ActiveSMs: g.SMs}, SimulatedOps: res.Issued, SkippedIters: res.Skipped,
		Tile: TileReport{BlockM: m.GEMMTile[0], BlockN: m.GEMMTile[1]}}
	for k, v := range shape {
		rep.Shape[k] = v
	}
	if res.Seconds > 0 {
		rep.TFLOPS = useful / res.Seconds / 1e12
		rep.PeakFraction = useful / res.Seconds / (peak * float64(g.SMs) * g.ClockHz)
	}
	rep.BoundBy = boundBy(res.Utilization)
	rep.Notes = []string{fmt.Sprintf("%d kernels in sequence, every intermediate through HBM", len(ks)),
		fmt.Sprintf("energy is not modelled for %s (the spec gives no per-action energies)", a.Name)}
	return rep, nil
}

func unfusedKernel(e *einsum.Einsum, sm *arch.SM, m *Mapping, sizes map[string]int64, inst int64, bytes, hbmCapacity float64) (kernel, error) {
	k := kernel{name: e.Name()}
	if r, ok := e.Expr.(*einsum.Read); ok && len(e.Reductions) == 0 && r.Access.Tensor.Kind == einsum.Input {
		return k, nil // a view: no kernel
	}
	pts := 1.0
	for _, r := range e.Vars {
		pts *= float64(sizes[r.Name])
	}
	outSize, err := e.Output.Tensor.Size().Eval(sizes)
	if err != nil {
		return k, err
	}
	var in float64
	for _, r := range e.Reads() {
		n, err := r.Tensor.Size().Eval(sizes)
		if err != nil {
			return k, err
		}
		in += float64(n)
	}
	total := (in + float64(outSize)) * bytes * float64(inst)
	if total > hbmCapacity {
		return k, fmt.Errorf("%s: kernel %s reads and writes %.4g GB, more than the %.4g GB of HBM", e.Pos, e.Name(), total/1e9, hbmCapacity/1e9)
	}
	if isProduct(e) {
		k.product = true
		tile := float64(m.GEMMTile[0] * m.GEMMTile[1])
		k.ctas = int64(math.Ceil(float64(outSize)/tile)) * inst
		red := pts / float64(outSize)
		k.flops = 2 * tile * red
		k.usefulFLOP = 2 * pts * float64(inst)
		k.l2 = float64(m.GEMMTile[0]+m.GEMMTile[1]) * red * bytes
	} else {
		k.ctas = int64(math.Ceil(pts/float64(m.ElementsCTA))) * inst
		per := pts / float64(k.ctas) * float64(inst)
		for op, n := range ops(e) {
			cost, ok := sm.Ops[op]
			if !ok {
				return k, fmt.Errorf("%s: Einsum %s uses %q, which the GPU spec does not say how to run (arch.sm.ops lists %s)", e.Pos, e.Name(), op, strings.Join(sortedKeys(sm.Ops), ", "))
			}
			k.fma += per * n * cost["fma"]
			k.sfu += per * n * cost["sfu"]
		}
		k.l2 = total / float64(k.ctas)
	}
	k.hbm = total / float64(k.ctas)
	return k, nil
}

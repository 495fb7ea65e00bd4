package multi

import (
	"fmt"
	"strings"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/sim"
)

// clockHz is the sim engine's time base for a multi-device schedule: one
// cycle is a nanosecond.
const clockHz = 1e9

// builder accumulates one flat schedule: a compute unit per device and a
// transmit unit per device and link class. Every operation is issued once,
// in body order, so a dependency always names an earlier operation.
type builder struct {
	sys      *arch.System
	units    []sim.Unit
	idx      map[string]int
	body     []sim.Item
	root     *sim.Loop
	zeroComm bool // transfers take no time: the run that shows what communication exposes
	energy   map[string]float64
}

func newBuilder(sys *arch.System, zeroComm bool) *builder {
	b := &builder{sys: sys, idx: map[string]int{}, zeroComm: zeroComm, energy: map[string]float64{}}
	b.root = &sim.Loop{Name: "run", Count: 1}
	return b
}

func computeUnit(dev int) string        { return fmt.Sprintf("dev%d", dev) }
func linkUnit(dev int, l string) string { return fmt.Sprintf("dev%d>%s", dev, l) }

func (b *builder) unit(name string, memory bool) int {
	if i, ok := b.idx[name]; ok {
		return i
	}
	b.idx[name] = len(b.units)
	b.units = append(b.units, sim.Unit{Name: name, Memory: memory})
	return b.idx[name]
}

func (b *builder) deps(ops []*sim.Op) []sim.Dep {
	var out []sim.Dep
	for _, o := range ops {
		if o != nil {
			out = append(out, sim.Dep{Op: o, Loop: b.root})
		}
	}
	return out
}

// compute issues seconds of work on a device after deps.
func (b *builder) compute(dev int, what string, seconds float64, deps ...*sim.Op) *sim.Op {
	o := &sim.Op{Name: fmt.Sprintf("%s@dev%d", what, dev), Einsum: what, Unit: b.unit(computeUnit(dev), false),
		Cycles: seconds * clockHz, PEFrac: 1, Deps: b.deps(deps)}
	b.body = append(b.body, o)
	return o
}

// send moves bytes from one device to another on the sender's port of the
// link class the route is limited by: every hop's latency plus the bytes at
// the link's bandwidth (cut-through; other traffic on intermediate links is
// not modelled).
func (b *builder) send(from, to int, bytes float64, deps ...*sim.Op) *sim.Op {
	h := b.sys.Route(from, to)
	sec := float64(h.Hops)*h.Link.LatencyS + bytes/h.Link.Bandwidth
	if b.zeroComm {
		sec = 0
	}
	act := "link." + h.Link.Name
	b.energy[act] = h.Link.EnergyPJPerB
	o := &sim.Op{Name: fmt.Sprintf("send dev%d→dev%d", from, to), Unit: b.unit(linkUnit(from, h.Link.Name), true),
		Cycles: sec * clockHz, PEFrac: 1, Bytes: bytes, Actions: map[string]float64{act: bytes}, Deps: b.deps(deps)}
	b.body = append(b.body, o)
	return o
}

func (b *builder) run() (*sim.Result, error) {
	b.root.Body = b.body
	return sim.Run(&sim.Schedule{ClockHz: clockHz, Units: b.units, Root: b.root, EnergyPJ: b.energy}, sim.Options{})
}

// linkUtilization is, per link class, the mean busy share of the ports of
// that class over the run.
func linkUtilization(r *sim.Result, sys *arch.System) map[string]float64 {
	sum, n := map[string]float64{}, map[string]int{}
	for unit, u := range r.Utilization {
		if i := strings.Index(unit, ">"); i > 0 {
			sum[unit[i+1:]] += u
			n[unit[i+1:]]++
		}
	}
	out := map[string]float64{}
	for _, l := range sys.LinkNames() {
		if n[l] > 0 {
			out[l] = sum[l] / float64(n[l])
		} else {
			out[l] = 0
		}
	}
	return out
}

package arch

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fusemax/fusemax/specs"
)

// System is a set of identical devices joined by links: what a
// multi-device schedule (Ring, Striped, Tree, Ulysses attention) runs on.
type System struct {
	File   string
	Name   string
	Device Device
	Count  int
	Links  map[string]*Link
	Topo   Topology
	spots  *specs.Spots // where device.arch, device.word and device are written
}

// ErrorAt is an error about the system value at path (device.arch,
// device.word or device), at its position, for checks made after decoding.
func (s *System) ErrorAt(path, format string, args ...any) error {
	if s.spots == nil {
		return fmt.Errorf("%s: %s", s.File, fmt.Sprintf(format, args...))
	}
	return s.spots.Errorf(path, path == "device", format, args...)
}

// Device is one accelerator of a system. Its per-device work is either
// lowered on an architecture spec (Arch, with a single-device Mapping) or
// timed from published rates (Attention, MemoryBandwidth); Peak is what the
// papers' ideal accounting divides FLOPs by.
type Device struct {
	Name            string
	Arch            string  // an arch spec the single-device lowering runs on; "" for none
	Mapping         string  // the single-device mapping for Arch
	WordBytes       float64 // bytes per element moved between devices
	PeakFLOPs       float64 // dense matrix FLOP/s
	AttentionFLOPs  float64 // measured attention FLOP/s (0: unknown)
	MemoryBytes     float64 // device memory capacity (0: unknown)
	MemoryBandwidth float64 // bytes/s (0: unknown)
}

// Link is a class of point-to-point link. Bandwidth is per direction.
type Link struct {
	Name         string
	Bandwidth    float64 // bytes/s, one direction
	LatencyS     float64
	EnergyPJPerB float64 // 0 where unknown
	Source       string  // where the rate comes from
}

// Topology kinds.
const (
	TopoRing   = "ring"
	TopoSwitch = "switch"
	TopoMesh   = "mesh"  // 2D mesh
	TopoTorus  = "torus" // 2D torus
	TopoHosts  = "hosts" // hosts of several devices joined by a slower network
)

// Topology says which link joins two devices and over how many hops.
type Topology struct {
	Kind    string
	Link    string // the link class (ring, switch, mesh, torus; inside a host for hosts)
	Dims    [2]int // mesh and torus: columns, rows
	Hosts   int    // hosts: number of hosts
	PerHost int    // hosts: devices per host
	Inner   string // hosts: the topology inside a host (ring or switch)
	Network string // hosts: the link class between hosts (one port per device)
}

// Hop is the route of one transfer: the link class it is limited by and
// how many link hops it takes.
type Hop struct {
	Link *Link
	Hops int
}

// Route returns how device a reaches device b (a != b).
func (s *System) Route(a, b int) Hop {
	t := s.Topo
	switch t.Kind {
	case TopoHosts:
		if a/t.PerHost != b/t.PerHost {
			return Hop{s.Links[t.Network], 1}
		}
		return Hop{s.Links[t.Link], innerHops(t.Inner, a%t.PerHost, b%t.PerHost, t.PerHost)}
	case TopoMesh, TopoTorus:
		ax, ay := a%t.Dims[0], a/t.Dims[0]
		bx, by := b%t.Dims[0], b/t.Dims[0]
		dx, dy := abs(ax-bx), abs(ay-by)
		if t.Kind == TopoTorus {
			dx, dy = min(dx, t.Dims[0]-dx), min(dy, t.Dims[1]-dy)
		}
		return Hop{s.Links[t.Link], dx + dy}
	}
	return Hop{s.Links[t.Link], innerHops(t.Kind, a, b, s.Count)}
}

func innerHops(kind string, a, b, n int) int {
	if kind == TopoRing {
		d := abs(a - b)
		return min(d, n-d)
	}
	return 1
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// RingOrder is the order in which a ring schedule visits the devices: a
// cycle whose consecutive devices are neighbours where the topology allows
// (a boustrophedon through a mesh or torus, host by host).
func (s *System) RingOrder() []int {
	out := make([]int, 0, s.Count)
	if k := s.Topo.Kind; k == TopoMesh || k == TopoTorus {
		cols, rows := s.Topo.Dims[0], s.Topo.Dims[1]
		for y := 0; y < rows; y++ {
			for x := 0; x < cols; x++ {
				if y%2 == 1 {
					out = append(out, y*cols+cols-1-x)
				} else {
					out = append(out, y*cols+x)
				}
			}
		}
		return out
	}
	for i := 0; i < s.Count; i++ {
		out = append(out, i)
	}
	return out
}

// LinkNames lists the system's link classes, sorted.
func (s *System) LinkNames() []string {
	var out []string
	for k := range s.Links {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// LoadSystem reads a system spec by file path or built-in name, applies
// the --set overrides, and validates it.
func LoadSystem(ref string, sets []string) (*System, error) {
	file, src, err := specs.Read("system", ref)
	if err != nil {
		return nil, err
	}
	return ParseSystem(file, src, sets)
}

// ParseSystem is LoadSystem for text already read.
func ParseSystem(file string, src []byte, sets []string) (*System, error) {
	d, err := specs.ParseWithSets(file, src, sets)
	if err != nil {
		return nil, err
	}
	return DecodeSystem(d)
}

// maxDevices bounds a system's size before anything proportional to it is
// built (schedules unroll per device and step).
const maxDevices = 1024

// DecodeSystem validates a parsed system spec.
func DecodeSystem(d *specs.Doc) (*System, error) {
	var errs specs.Errors
	top := d.Obj(d.Root, "system", &errs)
	s := &System{File: d.File, Links: map[string]*Link{}, spots: d.Spots()}
	s.Name = top.Str("name", true)
	s.Count = int(top.Int("count", true, 1))
	if s.Count > maxDevices {
		top.Failf(top.Get("count"), "system.count = %d: at most %d devices", s.Count, maxDevices)
	}
	s.spots.Note("device", top, "device")
	dev := top.Sub("device", true)
	s.spots.Note("device.arch", dev, "arch")
	s.spots.Note("device.word", dev, "word")
	s.Device = decodeDevice(dev)
	links := top.Sub("links", true)
	for _, name := range links.Keys() {
		l := links.Sub(name, true)
		s.Links[name] = &Link{Name: name,
			Bandwidth:    l.Num("bandwidth", specs.Bandwidth, true, 1),
			LatencyS:     l.Num("latency", specs.Time, false, 0),
			EnergyPJPerB: l.Num("energy_per_byte", specs.Energy, false, 0),
			Source:       l.Str("source", false),
		}
		l.Done()
	}
	if links.Node != nil && len(s.Links) == 0 {
		links.Failf(nil, "system.links lists no link")
	}
	s.Topo = decodeTopology(top.Sub("topology", true), s)
	top.Done()
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func decodeDevice(o *specs.Obj) Device {
	dv := Device{
		Name:            o.Str("name", true),
		Arch:            o.Str("arch", false),
		Mapping:         o.Str("mapping", false),
		WordBytes:       o.Num("word", specs.Bytes, true, 0.125),
		PeakFLOPs:       o.Num("peak", specs.Throughput, true, 1),
		AttentionFLOPs:  o.Num("attention", specs.Throughput, false, 0),
		MemoryBytes:     o.Num("memory", specs.Bytes, false, 0),
		MemoryBandwidth: o.Num("memory_bandwidth", specs.Bandwidth, false, 0),
	}
	if (dv.Arch == "") != (dv.Mapping == "") && o.Node != nil {
		o.Failf(nil, "system.device: arch and mapping go together (the single-device lowering needs both)")
	}
	if dv.AttentionFLOPs > dv.PeakFLOPs {
		o.Failf(o.Get("attention"), "system.device.attention exceeds the device's peak")
	}
	o.Done()
	return dv
}

func decodeTopology(o *specs.Obj, s *System) Topology {
	t := Topology{Kind: o.Str("kind", true), Link: o.Str("link", true)}
	needLink := func(key, name string) {
		if _, ok := s.Links[name]; !ok && name != "" && o.Node != nil {
			o.Failf(o.Get(key), "system.topology.%s names link %q, which system.links does not define (defined: %s)", key, name, strings.Join(s.LinkNames(), ", "))
		}
	}
	needLink("link", t.Link)
	switch t.Kind {
	case TopoRing, TopoSwitch:
	case TopoMesh, TopoTorus:
		dims := o.StrList("dims")
		if len(dims) != 2 {
			o.Failf(o.Get("dims"), "system.topology.dims must list two sizes (columns, rows)")
			break
		}
		for i, v := range dims {
			if _, err := fmt.Sscan(v, &t.Dims[i]); err != nil || t.Dims[i] < 1 {
				o.Failf(o.Get("dims"), "system.topology.dims: %q is not a positive size", v)
			}
		}
		if t.Dims[0]*t.Dims[1] != s.Count {
			o.Failf(o.Get("dims"), "system.topology.dims %d×%d is not system.count = %d devices", t.Dims[0], t.Dims[1], s.Count)
		}
	case TopoHosts:
		t.Hosts = int(o.Int("hosts", true, 1))
		t.PerHost = int(o.Int("per_host", true, 1))
		t.Inner = o.Str("inner", true)
		t.Network = o.Str("network", true)
		needLink("network", t.Network)
		if t.Inner != TopoRing && t.Inner != TopoSwitch && t.Inner != "" {
			o.Failf(o.Get("inner"), "system.topology.inner must be ring or switch, not %q", t.Inner)
		}
		if t.Hosts*t.PerHost != s.Count && t.Hosts > 0 {
			o.Failf(o.Get("hosts"), "system.topology: %d hosts of %d devices is not system.count = %d", t.Hosts, t.PerHost, s.Count)
		}
	default:
		if o.Node != nil {
			o.Failf(o.Get("kind"), "system.topology.kind must be ring, switch, mesh, torus or hosts, not %q", t.Kind)
		}
	}
	o.Done()
	return t
}

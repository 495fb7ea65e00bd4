package arch

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/specs"
)

func TestShippedSystems(t *testing.T) {
	for _, name := range specs.Names("system") {
		s, err := LoadSystem(name, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		order := s.RingOrder()
		seen := map[int]bool{}
		for _, d := range order {
			seen[d] = true
		}
		if len(order) != s.Count || len(seen) != s.Count {
			t.Errorf("%s: ring order %v is not a permutation of %d devices", name, order, s.Count)
		}
		for i := range order {
			if h := s.Route(order[i], order[(i+1)%len(order)]); h.Link == nil || h.Hops < 1 {
				t.Errorf("%s: no route %d→%d", name, order[i], order[(i+1)%len(order)])
			}
		}
	}
}

func TestRoute(t *testing.T) {
	ib, _ := LoadSystem("32xa100-infiniband", nil)
	torus, _ := LoadSystem("tpuv4-4x4-torus", nil)
	mesh, _ := LoadSystem("tpuv4-4x4-torus", []string{"topology.kind=mesh"})
	ring, _ := LoadSystem("8xa100-nvlink", []string{"topology.kind=ring"})
	for _, tc := range []struct {
		s        *System
		a, b     int
		link     string
		hops     int
		describe string
	}{
		{ib, 0, 7, "nvlink", 1, "same host"},
		{ib, 7, 8, "infiniband", 1, "across hosts"},
		{torus, 0, 3, "ici", 1, "torus wraps a row"},
		{mesh, 0, 3, "ici", 3, "mesh does not wrap"},
		{torus, 0, 15, "ici", 2, "torus corner to corner"},
		{ring, 0, 5, "nvlink", 3, "ring the short way round"},
	} {
		h := tc.s.Route(tc.a, tc.b)
		if h.Link.Name != tc.link || h.Hops != tc.hops {
			t.Errorf("%s: %d→%d = %s × %d hops, want %s × %d", tc.describe, tc.a, tc.b, h.Link.Name, h.Hops, tc.link, tc.hops)
		}
	}
	// The snake through the torus closes with one wrap-around hop.
	o := torus.RingOrder()
	if h := torus.Route(o[len(o)-1], o[0]); h.Hops != 1 {
		t.Errorf("torus ring closes in %d hops, want 1", h.Hops)
	}
}

const goodSystem = `name: t
count: 4
device: {name: d, word: 2 B, peak: 100 TFLOP/s}
links: {l: {bandwidth: 100 GB/s}}
topology: {kind: switch, link: l}
`

func TestSystemErrors(t *testing.T) {
	for _, tc := range []struct{ set, want string }{
		{"count=0", "count = 0 must be at least 1"},
		{"count=5000", "at most 1024 devices"},
		{"device.peak=100 GB/s", "inconsistent"},
		{"topology.link=x", `names link "x", which system.links does not define`},
		{"topology.kind=cube", "must be ring, switch, mesh, torus or hosts"},
		{"links.l.latency=3", "needs a unit"},
		{"device.attention=200 TFLOP/s", "exceeds the device's peak"},
		{"device.arch=fusemax-cloud", "arch and mapping go together"},
		{"device.colour=red", `unknown key "colour"`},
	} {
		_, err := ParseSystem("t.yaml", []byte(goodSystem), []string{tc.set})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("--set %s: error %v, want %q", tc.set, err, tc.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "t.yaml:") && !strings.HasPrefix(err.Error(), "--set") {
			t.Errorf("--set %s: error %q has no position", tc.set, err)
		}
	}
	if _, err := ParseSystem("t.yaml", []byte(strings.Replace(goodSystem, "kind: switch", "kind: torus, dims: [3, 3]", 1)), nil); err == nil || !strings.Contains(err.Error(), "is not system.count") {
		t.Errorf("torus of the wrong size: %v", err)
	}
}

func FuzzParseSystem(f *testing.F) {
	f.Add([]byte(goodSystem))
	for _, n := range specs.Names("system") {
		_, src, _ := specs.Read("system", n)
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := ParseSystem("f.yaml", src, nil)
		if err != nil {
			return
		}
		for i := 0; i < s.Count && i < 64; i++ {
			s.Route(i, (i+1)%s.Count)
		}
		_ = s.RingOrder()
	})
}

func ExampleLoadSystem() {
	s, _ := LoadSystem("32xa100-infiniband", nil)
	h := s.Route(7, 8) // the last GPU of host 0 to the first of host 1
	fmt.Println(s.Count, h.Link.Name, h.Link.Bandwidth/1e9, "GB/s")
	// Output: 32 infiniband 12.5 GB/s
}

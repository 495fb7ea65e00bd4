package arch

import (
	"strings"
	"testing"

	"github.com/fusemax/fusemax/specs"
)

func TestGPUSpecErrors(t *testing.T) {
	for _, c := range []struct{ set, want string }{
		{"sm.tensor.efficiency=1.5", "at most 1"},
		{"sm.fma.lanes=0", "at least 1"},
		{"memory.HBM.bandwidth=3 GHz", "bandwidth"},
		{"sm.copy=[dma]", "unknown copy engine"},
		{"sm.ops.exp.alu=1", "unknown pipe"},
		{"sm.shared.per_cta=1 MiB", "exceeds"},
		{"sm.warp_size=32", "unknown key"},
	} {
		_, err := Load("h100-sxm5-80gb", []string{c.set})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--set %s: %v, want %q", c.set, err, c.want)
		}
	}
	s, err := Load("h100-sxm5-80gb", []string{"sm.fma.lanes=64"})
	if err != nil || s.GPU.SM.FMALanes != 64 {
		t.Errorf("override: %v %v", s, err)
	}
	if got := s.Describe(); !strings.Contains(got, "132 SMs") || !strings.Contains(got, "wgmma 989") {
		t.Errorf("Describe: %s", got)
	}
}

func FuzzParseGPU(f *testing.F) {
	for _, n := range []string{"a100-sxm4-80gb", "h100-sxm5-80gb", "h200-sxm-141gb"} {
		_, src, err := specs.Read("arch", n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("fuzz.yaml", src, nil)
		if err == nil && s == nil {
			t.Fatal("nil spec without an error")
		}
	})
}

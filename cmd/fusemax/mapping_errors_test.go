package main

import (
	"os"
	"strings"
	"testing"
)

// TestMappingValueErrors: a mapping (or arch) value that is well-formed
// but fails once it meets the cascade and the machine is reported at its
// file:line:col (inside a size expression, at what is wrong), with what to
// do, exit 1, and nothing on stdout.
func TestMappingValueErrors(t *testing.T) {
	binding, err := os.ReadFile("../../specs/mapping/fusemax-binding.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cloud, err := os.ReadFile("../../specs/arch/fusemax-cloud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edit := func(name string, src []byte, from, to string) string {
		if !strings.Contains(string(src), from) {
			t.Fatalf("%s lacks %q", name, from)
		}
		return writeFile(t, name, strings.Replace(string(src), from, to, 1))
	}
	const tile = "P: P1 * 2d.cols "
	small := edit("small.yaml", cloud, "capacity: 16 MiB", "capacity: 16 KiB")
	cases := []struct {
		mapping, arch string
		seq           string
		err           string
	}{
		{edit("three.yaml", binding, tile, "P: 3 "), "fusemax-cloud", "1K",
			"three.yaml:13:6: tile.P: a group of 3 does not divide P=1024; give a divisor of 1024 (nearest: 2 or 4)"},
		{edit("div.yaml", binding, tile, "P: P1 * 2d.cols / 0"), "fusemax-cloud", "1K",
			`div.yaml:13:21: tile.P: "P1 * 2d.cols / 0" divides by zero`},
		{edit("derive.yaml", binding, "divisor_of: P / 2d.cols", "divisor_of: P / (2d.cols - 256)"), "fusemax-cloud", "1K",
			`derive.yaml:16:21: derive.P1.divisor_of: "P / (2d.cols - 256)" divides by zero: its divisor (2d.cols - 256) is 0 here`},
		{edit("paren.yaml", binding, tile, `P: "P1 * (2d.cols"`), "fusemax-cloud", "1K",
			`paren.yaml:13:12: tile.P: "P1 * (2d.cols": this ( is not closed (missing ))`},
		{edit("name.yaml", binding, "M0: 2d.rows", "M0: 2d.height"), "fusemax-cloud", "1K",
			`name.yaml:11:7: sizes.M0: "2d.height": 2d.height is not a rank, a size, a derived value or an arch field`},
		{edit("self.yaml", binding, "M0: 2d.rows", "M0: M0 / 2"), "fusemax-cloud", "1K",
			"self.yaml:11:7: sizes.M0: M0 is a rank of cascade attention_1pass whose size is not known yet"},
		{edit("drain.yaml", binding, "QK: 2d\n", "QK: {unit: 2d, drain: 1e300}\n"), "fusemax-cloud", "1K",
			`drain.yaml:27:25: einsums.QK.drain: "1e300" is 1e+300; a drain is a number of the operation's durations from 0 to 65536`},
		{edit("half.yaml", binding, tile, "P: P1 / 2 "), "fusemax-cloud", "1K",
			`half.yaml:13:6: tile.P: "P1 / 2" is 0.5, not a positive whole number (ceil_div(a, b) rounds a quotient up)`},
		{edit("rank.yaml", binding, tile, "Q: 4 "), "fusemax-cloud", "1K",
			"rank.yaml:13:3: tile.Q: cascade attention_1pass has no rank Q (it has E, F, M, P, M1, M0)"},
		{edit("fits.yaml", binding, "fits: L3", "fits: L2"), "fusemax-cloud", "1K",
			`fits.yaml:17:11: derive.P1.fits names "L2", which is not an on-chip level of fusemax-cloud (name one of: L3)`},
		{edit("inst.yaml", binding, "instances: [B, H]", "instances: [B, P]"), "fusemax-cloud", "1K",
			"inst.yaml:9:16: instances: P is a rank of cascade attention_1pass, not an independent copy"},
		{edit("onchip.yaml", binding, "onchip: [Q, BK", "onchip: [Q, ZZ, BK"), "fusemax-cloud", "1K",
			"onchip.yaml:19:13: onchip: cascade attention_1pass has no tensor ZZ"},
		{edit("stages.yaml", binding, "\nwriteback: 1", "\nstages: {ZZ: 1}\nwriteback: 1"), "fusemax-cloud", "1K",
			"stages.yaml:22:10: stages.ZZ: cascade attention_1pass has no Einsum ZZ that does work"},
		// The mapping's M0 = 2d.rows does not divide the shape's M.
		{"fusemax-binding", "fusemax-cloud", "100",
			"fusemax-binding.yaml:11:7: split of M into M1, M0: 256 does not divide M=100 (the mapping sets M0 = 2d.rows = 256; give a shape this divides, or give M0 in --shape)"},
		// Nothing fits the arch's buffer: both the mapping entry and the
		// arch value are named.
		{"fusemax-binding", small, "64K",
			"fusemax-binding.yaml:15:3: derive.P1: no P1 fits L3: even P1=1 keeps 132096 bytes in L3, which holds 16384 (capacity at " + small + ":16:15); give L3 at least 132096 bytes, or tile the other ranks smaller"},
		{"unfused", small, "64K",
			"unfused.yaml:10:1: the mapping keeps 16777216 bytes in L3, which holds 16384 (capacity at " + small + ":16:15): tile less, give L3 more capacity, or declare a spill fraction"},
	}
	// Multi-device and GPU mappings: the same, for their values.
	ring, err := os.ReadFile("../../specs/mapping/ring.yaml")
	if err != nil {
		t.Fatal(err)
	}
	nvlink, err := os.ReadFile("../../specs/system/8xa100-nvlink.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const shape = "B=1,H=32,E=128,F=128,M=8192,P=8192"
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"--system", "8xa100-nvlink", "--mapping", edit("shardE.yaml", ring, "M: ring}", "E: ring}")},
			"shardE.yaml:9:21: mask_tile.M: M is not a sharded rank ({E: ring, P: devices})"},
		{[]string{"--system", "8xa100-nvlink", "--mapping", edit("heads.yaml", ring, "heads: H ", "heads: Q "), "--set", "mapping.group=4"},
			"heads.yaml:8:8: heads: the shape gives no size for Q, the heads rank that 2 groups of 4 devices shard (give Q in --shape)"},
		{[]string{"--system", edit("sys.yaml", nvlink, "arch: a100-sxm4-80gb", "arch: a100"), "--mapping", "ring"},
			`sys.yaml:10:9: device.arch: no arch spec "a100"`},
		{[]string{"--arch", "h100-sxm5-80gb", "--mapping", "fa3", "--set", "mapping.warps=6"},
			"--set warps=6: 6 warps do not make whole warpgroups of 4 (consumer: warpgroup): give a multiple of 4"},
		{[]string{"--arch", "h100-sxm5-80gb", "--mapping", "fa3", "--set", "mapping.stages=8"},
			"fa3.yaml:32:8: a 128×176 tile with 8 stages keeps 736 KiB in shared memory; one CTA may allocate 227 KiB"},
	} {
		args := append([]string{"simulate", "attention_1pass", "--shape", shape}, c.args...)
		out, errOut, code := run(t, args...)
		if code != 1 || !strings.Contains(errOut, c.err) || out != "" || strings.Contains(errOut, "goroutine") {
			t.Errorf("fusemax %s: exit %d, stdout %.100q, stderr %q; want exit 1, %q", strings.Join(args[1:], " "), code, out, errOut, c.err)
		}
	}
	for _, c := range cases {
		kernel := "attention_1pass"
		if c.mapping == "unfused" {
			kernel = "attention_3pass"
		}
		args := []string{"simulate", kernel, "--arch", c.arch, "--mapping", c.mapping, "--workload", "BERT", "--seq", c.seq}
		out, errOut, code := run(t, args...)
		if code != 1 || !strings.Contains(errOut, c.err) || out != "" {
			t.Errorf("fusemax %s: exit %d, stdout %.100q, stderr %q; want exit 1, %q", strings.Join(args[1:], " "), code, out, errOut, c.err)
		}
		if strings.Contains(errOut, "goroutine") || strings.Contains(errOut, "panic") {
			t.Errorf("fusemax %s: a stack trace reached the user", strings.Join(args[1:], " "))
		}
	}
}

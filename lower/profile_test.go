package lower

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fusemax/fusemax/arch"
	"github.com/fusemax/fusemax/sim"
	"github.com/fusemax/fusemax/specs"
)

// The shipped profiles: physical has none of the artifact's quirks,
// fusemax-micro24 all of them.
func TestShippedProfiles(t *testing.T) {
	phys, err := LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	art, err := LoadProfile(ProfileFuseMaxMicro24)
	if err != nil {
		t.Fatal(err)
	}
	if phys.Name != ProfilePhysical || phys.PerInstanceRF || phys.PartitionWrap || phys.DRAMReadGuard || len(phys.ConfigSets)+len(phys.Drains) > 0 {
		t.Errorf("physical has a quirk: %+v", phys)
	}
	if !art.PerInstanceRF || !art.PartitionWrap || !art.DRAMReadGuard || art.Drains["fusemax-arch"]["LM"] != "M0" ||
		len(art.ConfigSets["fusemax-micro24/cascade"]) != 2 {
		t.Errorf("fusemax-micro24 lacks a quirk: %+v", art)
	}
	if got := strings.Join(Profiles(), ","); got != "fusemax-micro24,physical" {
		t.Errorf("Profiles() = %s", got)
	}
}

// A profile file's mistakes are reported at their file:line:col.
func TestProfileErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"profile: x\nregister_files: per_pe\n", `p.yaml:2:17: profile.register_files must be per_instance or every_pe, not "per_pe"`},
		{"profile: x\nregister_files: every_pe\npartition_wrap: yes\n", `p.yaml:3:17: profile.partition_wrap must be true or false, not "yes"`},
		{"profile: x\nregister_files: every_pe\nwrap: true\n", `p.yaml:3:1: profile: unknown key "wrap"`},
		{"profile: x\nregister_files: every_pe\nconfigs:\n  fusemax-micro24/kascade: {set: [a=1]}\n", `p.yaml:4:3: profile.configs: no configuration "fusemax-micro24/kascade"`},
		{"profile: x\nregister_files: every_pe\nconfigs:\n  fusemax-micro24/cascade: {set: [nothing]}\n", `p.yaml:4:34: profile.configs.fusemax-micro24/cascade.set: --set "nothing": want path=value`},
		{"profile: x\nregister_files: every_pe\ndrains:\n  fusemax-ark: {LM: M0}\n", `p.yaml:4:3: profile.drains: no mapping "fusemax-ark"`},
		{"register_files: every_pe\n", `p.yaml:1:1: profile: missing "profile"`},
	} {
		if _, err := ParseProfile("p.yaml", []byte(tc.src)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.src, err, tc.want)
		}
	}
}

// physical is physical for latency too: +Architecture's LM drain and
// +Cascade's serial sub→exp are the artifact's, so both run faster under
// it, and a profile file given by path works as a built-in does.
func TestPhysicalLatency(t *testing.T) {
	for _, cfg := range refConfigs {
		if cfg.name != "arch" && cfg.name != "cascade" {
			continue
		}
		conf, c, _ := loadRef(t, cfg)
		lat := map[string]float64{}
		for _, prof := range []string{ProfilePhysical, ProfileFuseMaxMicro24, "../specs/profiles/fusemax-micro24.yaml"} {
			a, err := arch.Load(conf.Arch, conf.ArchSets(prof))
			if err != nil {
				t.Fatal(err)
			}
			m, err := LoadMapping(conf.Mapping, attn1K, nil)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Simulate(c, a, m, attn1K, Options{EnergyProfile: prof}, sim.Options{})
			if err != nil {
				t.Fatal(err)
			}
			lat[prof] = r.LatencyS
		}
		if lat[ProfilePhysical] >= lat[ProfileFuseMaxMicro24] || lat["../specs/profiles/fusemax-micro24.yaml"] != lat[ProfileFuseMaxMicro24] {
			t.Errorf("%s: latency %v: physical should be faster, the file the same as the built-in", cfg.name, lat)
		}
	}
}

func FuzzParseProfile(f *testing.F) {
	for _, name := range Profiles() {
		_, src, err := specs.Read("profiles", name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte("profile: x\nregister_files: every_pe\ndrains: {fusemax-arch: {LM: [1]}}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := ParseProfile("f.yaml", src)
		if err == nil && p.Name == "" {
			t.Error("a profile without a name parsed")
		}
	})
}

// A profile is read by name (or path) and says how counts are charged.
func ExampleLoadProfile() {
	p, err := LoadProfile("fusemax-micro24")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Name, p.PerInstanceRF, p.PartitionWrap, p.Drains["fusemax-arch"]["LM"])
	// Output: fusemax-micro24 true true M0
}

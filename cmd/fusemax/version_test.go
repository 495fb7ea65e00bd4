package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestDescribeBuild(t *testing.T) {
	t.Parallel()
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T20:00:00Z"}, {Key: "vcs.modified", Value: "true"}}
	cases := []struct {
		linked string
		info   *debug.BuildInfo
		want   string
	}{
		{"", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}}, "v1.2.0 (go1.26.8)"},
		{"", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: vcs}, "devel (revision 0123456789ab modified, 2026-12-01T20:00:00Z, go1.26.8)"},
		{"v2.0.0", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}, "v2.0.0 (go1.26.8)"},
		{"", nil, "devel (no build info)"},
	}
	for _, c := range cases {
		if got := describeBuild(c.linked, c.info); got != c.want {
			t.Errorf("describeBuild(%q, %+v) = %q, want %q", c.linked, c.info, got, c.want)
		}
	}
	// The binary the tests built reports its Go version, never a fixed "dev".
	out, _, code := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "fusemax ") || !strings.Contains(out, "go1.") || strings.Contains(out, "fusemax dev\n") {
		t.Errorf("fusemax version: %q (exit %d)", out, code)
	}
}

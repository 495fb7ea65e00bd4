package main

import (
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version may be set at release time with -ldflags "-X main.version=...";
// otherwise the module's build info says what was built.
var version = ""

func addVersion(root *cobra.Command) {
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the fusemax version (module version, VCS revision, Go version) from the build info",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			info, _ := debug.ReadBuildInfo()
			fmt.Fprintf(cmd.OutOrStdout(), "fusemax %s\n", describeBuild(version, info))
		},
	})
}

// describeBuild is the version line: the release version given at link time,
// else the module version (v1.2.0 under go install ...@v1.2.0, "devel" for
// a build from a checkout), then the VCS revision, its time and whether the
// tree was modified, when Go recorded them, and the Go version.
func describeBuild(linked string, info *debug.BuildInfo) string {
	if info == nil {
		if linked == "" {
			linked = "devel"
		}
		return linked + " (no build info)"
	}
	v := linked
	if v == "" {
		v = info.Main.Version
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var details []string
	s := map[string]string{}
	for _, kv := range info.Settings {
		s[kv.Key] = kv.Value
	}
	if rev := s["vcs.revision"]; rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if s["vcs.modified"] == "true" {
			rev += " modified"
		}
		details = append(details, "revision "+rev)
	}
	if t := s["vcs.time"]; t != "" {
		details = append(details, t)
	}
	details = append(details, info.GoVersion)
	return v + " (" + strings.Join(details, ", ") + ")"
}

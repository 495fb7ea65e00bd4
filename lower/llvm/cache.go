package llvm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// The build cache keeps compiled kernels (the linked driver and kernel, one
// executable per entry) in the user cache directory, keyed by the SHA-256 of
// everything the executable depends on: the IR, the driver's C source, the
// build flags and the identity of opt, llc and gcc (path, size, modification
// time, and llc's version text). A repeated shape therefore does not
// recompile, across runs and processes. Entries are written to a temporary
// file beside the entry and renamed into place, so concurrent runs never see
// a partial executable (two runs that miss together both build and the last
// rename wins; their bytes are identical). FUSEMAX_CACHE sets the directory,
// or disables the cache with "off".

// cacheVersion changes when the layout or the meaning of an entry does.
const cacheVersion = "fusemax-llvm-cache 1"

// cacheMaxEntries bounds the cache; the least recently used entries beyond
// it are removed after each insertion.
const cacheMaxEntries = 512

// cacheDir is the build cache's directory, or "" when it is disabled or the
// user has no cache directory.
func cacheDir() string {
	switch v := os.Getenv("FUSEMAX_CACHE"); {
	case v == "off":
		return ""
	case v != "":
		return v
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "fusemax", "llvm")
}

// cacheKey hashes what a built executable depends on.
func cacheKey(t Tools, flags []string, ir string, driver []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%s\n", cacheVersion, t.identity, strings.Join(flags, " "))
	fmt.Fprintf(h, "%d\n", len(ir))
	io.WriteString(h, ir)
	h.Write(driver)
	return hex.EncodeToString(h.Sum(nil))[:40]
}

// cached returns the path of the entry for key when it exists, refreshing
// its modification time (the cache evicts least recently used entries).
func cached(dir, key string) (string, bool) {
	if dir == "" {
		return "", false
	}
	p := filepath.Join(dir, key)
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return "", false
	}
	now := time.Now()
	os.Chtimes(p, now, now)
	return p, true
}

// store copies a freshly built executable into the cache. Failures are not
// errors: the run goes on with the built file, only uncached.
func store(dir, key, built string) {
	if dir == "" || os.MkdirAll(dir, 0o755) != nil {
		return
	}
	src, err := os.Open(built)
	if err != nil {
		return
	}
	defer src.Close()
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return
	}
	_, err = io.Copy(tmp, src)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o755)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, key))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return
	}
	prune(dir, cacheMaxEntries)
}

// prune removes the least recently used entries beyond keep, and temporary
// files an interrupted run left behind more than an hour ago.
func prune(dir string, keep int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type entry struct {
		name string
		used time.Time
	}
	var live []entry
	for _, e := range ents {
		info, err := e.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		if strings.HasPrefix(e.Name(), ".tmp-") {
			if time.Since(info.ModTime()) > time.Hour {
				os.Remove(filepath.Join(dir, e.Name()))
			}
			continue
		}
		live = append(live, entry{e.Name(), info.ModTime()})
	}
	if len(live) <= keep {
		return
	}
	sort.Slice(live, func(i, j int) bool { return live[i].used.After(live[j].used) })
	for _, e := range live[keep:] {
		os.Remove(filepath.Join(dir, e.name))
	}
}

// probes memoises FindTools per PATH: one probe of the tools per process
// (tests that change PATH get their own).
var probes struct {
	sync.Mutex
	byPath map[string]probe
}

type probe struct {
	t   Tools
	err error
}

// FindTools looks for opt and llc of LLVM 14 (opt-14, then opt) and gcc on
// PATH. Its error says which Debian package to install. The probe (which
// runs llc --version) happens once per process and PATH.
func FindTools() (Tools, error) {
	path := os.Getenv("PATH")
	probes.Lock()
	defer probes.Unlock()
	if p, ok := probes.byPath[path]; ok {
		return p.t, p.err
	}
	t, err := findTools()
	if probes.byPath == nil {
		probes.byPath = map[string]probe{}
	}
	probes.byPath[path] = probe{t, err}
	return t, err
}

func findTools() (Tools, error) {
	var t Tools
	find := func(names ...string) string {
		for _, n := range names {
			if p, err := exec.LookPath(n); err == nil {
				return p
			}
		}
		return ""
	}
	t.Opt, t.LLC, t.CC = find("opt-14", "opt"), find("llc-14", "llc"), find("gcc", "cc")
	if t.Opt == "" || t.LLC == "" {
		return t, fmt.Errorf("%w: the LLVM backend needs opt and llc from LLVM 14 on PATH; install the Debian package llvm-14 (apt-get install llvm-14)", ErrNoTools)
	}
	if t.CC == "" {
		return t, fmt.Errorf("%w: the LLVM backend links its driver with gcc; install the Debian package gcc (apt-get install gcc)", ErrNoTools)
	}
	out, err := llcVersion(t.LLC)
	if err != nil {
		return t, fmt.Errorf("%w: %s --version: %v", ErrNoTools, t.LLC, err)
	}
	if !bytes.Contains(out, []byte("LLVM version 14.")) {
		return t, fmt.Errorf("%w: %s is not LLVM 14 (the generated IR uses typed pointers); install the Debian package llvm-14", ErrNoTools, t.LLC)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Default target:"); ok {
			t.Triple = strings.TrimSpace(v)
		}
	}
	var id strings.Builder
	for _, p := range []string{t.Opt, t.LLC, t.CC} {
		fmt.Fprintf(&id, "%s %s\n", p, fileIdentity(p))
	}
	id.Write(out)
	id.WriteString(hostCPU())
	t.identity = id.String()
	return t, nil
}

// llcVersion is the output of llc --version, kept in the build cache by the
// identity of the llc file (path, size, modification time), so that a run
// whose kernel is cached starts no tool at all.
func llcVersion(llc string) ([]byte, error) {
	dir := cacheDir()
	sum := sha256.Sum256([]byte(cacheVersion + "\n" + fileIdentity(llc)))
	path := filepath.Join(dir, "llc-version-"+hex.EncodeToString(sum[:8]))
	if dir != "" {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return b, nil
		}
	}
	out, err := exec.Command(llc, "--version").Output()
	if err != nil || dir == "" || os.MkdirAll(dir, 0o755) != nil {
		return out, err
	}
	if tmp, terr := os.CreateTemp(dir, ".tmp-*"); terr == nil {
		_, werr := tmp.Write(out)
		if cerr := tmp.Close(); werr == nil && cerr == nil {
			os.Rename(tmp.Name(), path)
		}
		os.Remove(tmp.Name())
	}
	return out, nil
}

// hostCPU is the model and feature flags of the first CPU in
// /proc/cpuinfo: kernels are built with -mcpu=native, and llc 14 does not
// name every CPU it runs on ("Host CPU: (unknown)" on Zen 5).
func hostCPU() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	var id strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		k, _, _ := strings.Cut(line, ":")
		switch strings.TrimSpace(k) {
		case "model name", "flags":
			id.WriteString(line + "\n")
		case "":
			return id.String()
		}
	}
	return id.String()
}

// fileIdentity is the size and modification time of the file a path
// resolves to: an upgrade of a tool changes it without running the tool.
func fileIdentity(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	st, err := os.Stat(p)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%s %d %d", p, st.Size(), st.ModTime().UnixNano())
}

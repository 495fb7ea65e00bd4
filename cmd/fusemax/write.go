package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/fusemax/fusemax/tensor"
)

// writeOutput puts data at path for -o FILE and fmt -w, as an interrupt-safe
// critical section. A regular file (or a new one) is replaced atomically:
// written beside it, synced, renamed over it, with its permissions kept. A
// symbolic link is followed and its target replaced, so the link stays. A
// device, FIFO or socket (-o /dev/stdout, /dev/null) is written through,
// never replaced. A directory is refused.
func writeOutput(path string, data []byte) error {
	return critical(func() error {
		target, err := filepath.EvalSymlinks(path)
		if os.IsNotExist(err) {
			target, err = danglingTarget(path)
		}
		if err != nil {
			return err
		}
		st, err := os.Stat(target)
		switch {
		case os.IsNotExist(err):
			return replaceFile(target, data, 0o644)
		case err != nil:
			return err
		case st.IsDir():
			return fmt.Errorf("%s is a directory; name a file to write", path)
		case !st.Mode().IsRegular():
			return writeThrough(target, data)
		}
		return replaceFile(target, data, st.Mode().Perm())
	})
}

// danglingTarget is where a symbolic link that points nowhere yet would
// create its file (or path itself when it is no link).
func danglingTarget(path string) (string, error) {
	dest, err := os.Readlink(path)
	if err != nil {
		if _, statErr := os.Lstat(path); os.IsNotExist(statErr) {
			return path, nil
		}
		return "", err
	}
	if !filepath.IsAbs(dest) {
		dest = filepath.Join(filepath.Dir(path), dest)
	}
	return dest, nil
}

func writeThrough(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func replaceFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".fusemax-*")
	if err != nil {
		// The temporary name means nothing to the user; the folder does.
		if os.IsNotExist(err) {
			return fmt.Errorf("folder %s does not exist; create it first", filepath.Dir(path))
		}
		if os.IsPermission(err) {
			return fmt.Errorf("folder %s is not writable", filepath.Dir(path))
		}
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), perm); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeDir writes eval's .npy files as one interrupt-safe critical section;
// on failure it removes the --out folder if it created it.
func writeDir(dir string, names []string, all map[string]*tensor.Dense, dt tensor.DType) error {
	return critical(func() error {
		st, statErr := os.Stat(dir)
		if statErr == nil && !st.IsDir() {
			return fmt.Errorf("--out %s is a file; name a folder to write the .npy files into", dir)
		}
		err := tensor.WriteDir(dir, names, all, dt)
		if err != nil && os.IsNotExist(statErr) {
			os.Remove(dir) // only if still empty
		}
		return err
	})
}

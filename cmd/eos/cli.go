package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"sort"
	"strings"
	"time"
)

// Exit statuses: a contract that scripts rely on.
const (
	exitOK       = 0
	exitFailure  = 1 // the run failed (I/O, a solver error)
	exitUsage    = 2 // invalid flags or input: nothing was written
	exitDiverged = 3 // the loss blew up: the trace up to that step is kept
)

// usageError is bad user input; it maps to exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// newFlagSet returns a FlagSet that reports errors instead of exiting, so
// that every bad value goes through the same exit-status mapping.
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: eos %s\n\nflags:\n", synopsis)
		fs.SetOutput(os.Stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags parses args; -h prints the usage, and any error becomes a
// usageError naming the flag.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return errHelp
		}
		return usagef("eos %s: %v (run `eos %s -h` for the flags)", fs.Name(), err, fs.Name())
	}
	if fs.NArg() > 0 {
		return usagef("eos %s: unexpected argument %q (flags start with --)", fs.Name(), fs.Arg(0))
	}
	return nil
}

var errHelp = errors.New("help shown")

// flagValues returns every flag of fs with its value (set or default), for
// config.json.
func flagValues(fs *flag.FlagSet) map[string]string {
	m := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { m[f.Name] = f.Value.String() })
	return m
}

// config is what config.json records: enough to re-run (eos rerun DIR).
type config struct {
	Command   string            `json:"command"`
	Args      []string          `json:"args"`
	Flags     map[string]string `json:"flags"`
	Module    string            `json:"module"`
	Version   string            `json:"version"`
	Commit    string            `json:"commit"`
	Modified  bool              `json:"modified,omitempty"`
	GoVersion string            `json:"go_version"`
	Started   string            `json:"started"`
	Data      string            `json:"data,omitempty"`
}

func newConfig(fs *flag.FlagSet, args []string) *config {
	c := &config{Command: fs.Name(), Args: args, Flags: flagValues(fs), Started: time.Now().UTC().Format(time.RFC3339),
		Module: "github.com/eoskit/eoskit", Version: "(unknown)", Commit: "(unknown)"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		c.Module, c.Version, c.GoVersion = bi.Main.Path, bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				c.Commit = s.Value
			case "vcs.modified":
				c.Modified = s.Value == "true"
			}
		}
	}
	if c.Commit == "(unknown)" {
		c.Commit = gitCommit()
	}
	return c
}

// gitCommit asks git for the commit of the working tree when the binary was
// not stamped (go run does not stamp VCS information).
func gitCommit() string {
	head, err := os.ReadFile(filepath.Join(findRepoRoot(), ".git", "HEAD"))
	if err != nil {
		return "(unknown)"
	}
	ref := strings.TrimSpace(string(head))
	if !strings.HasPrefix(ref, "ref: ") {
		return ref
	}
	b, err := os.ReadFile(filepath.Join(findRepoRoot(), ".git", strings.TrimPrefix(ref, "ref: ")))
	if err != nil {
		return "(unknown)"
	}
	return strings.TrimSpace(string(b))
}

func findRepoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// outDir validates --out before anything is written: an existing non-empty
// directory is refused unless force is set (then it is emptied of the files
// this command writes).
func prepareOut(dir string, force bool, owned []string) error {
	if dir == "" {
		return usagef("--out is required: the directory to write results into")
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return usagef("--out %s: %v", dir, err)
	case len(entries) > 0 && !force:
		return usagef("--out %s exists and is not empty; choose another directory or pass --force to overwrite", dir)
	case len(entries) > 0:
		for _, name := range owned {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		if err := removeStaleTemps(dir, owned); err != nil {
			return err
		}
	}
	return os.MkdirAll(dir, 0o755)
}

// removeStaleTemps removes the temporary files (createAtomic's, the
// checkpoint's) that a run killed while writing one of the owned files left
// in dir. A run directory is written by one run at a time, so any such
// file is stale once a run starts or resumes there.
func removeStaleTemps(dir string, owned []string) error {
	for _, name := range owned {
		stale, err := filepath.Glob(filepath.Join(dir, "."+name+".tmp-*"))
		if err != nil {
			return err
		}
		for _, f := range stale {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so that readers never see half a file.
func writeFileAtomic(path string, data []byte) error {
	f, err := createAtomic(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}

// writeJSON writes v as indented JSON, atomically. Non-finite numbers,
// which JSON cannot represent, are written as null.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(finiteJSON(reflect.ValueOf(v)), "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// finiteJSON converts v to plain maps, slices and values with NaN and ±Inf
// replaced by nil, following json tags and embedded structs.
func finiteJSON(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return finiteJSON(v.Elem())
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return f
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = finiteJSON(v.Index(i))
		}
		return out
	case reflect.Map:
		out := make(map[string]any, v.Len())
		for _, k := range v.MapKeys() {
			out[fmt.Sprint(k.Interface())] = finiteJSON(v.MapIndex(k))
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		addStructFields(out, v)
		return out
	}
	return v.Interface()
}

func addStructFields(out map[string]any, v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			addStructFields(out, v.Field(i))
			continue
		}
		if name == "" {
			name = f.Name
		}
		if strings.Contains(opts, "omitempty") && v.Field(i).IsZero() {
			continue
		}
		out[name] = finiteJSON(v.Field(i))
	}
}

// atomicFile is a file being written under a temporary name; Commit renames
// it into place, Abort removes it.
type atomicFile struct {
	*os.File
	path string
}

func createAtomic(path string) (*atomicFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &atomicFile{File: f, path: path}, nil
}

func (f *atomicFile) Commit() error {
	if err := f.File.Close(); err != nil {
		os.Remove(f.File.Name())
		return err
	}
	return os.Rename(f.File.Name(), f.path)
}

func (f *atomicFile) Abort() {
	f.File.Close()
	os.Remove(f.File.Name())
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

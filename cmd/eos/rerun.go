package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// runRerun re-runs the command recorded in DIR/config.json with the same
// arguments, writing into a new directory.
func runRerun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("rerun", "rerun [--out NEWDIR] [--force] DIR")
	out := fs.String("out", "", "directory for the new run (default: DIR-rerun)")
	force := fs.Bool("force", false, "overwrite the files of a previous run in --out")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.Usage()
			return errHelp
		}
		return usagef("eos rerun: %v (usage: eos rerun [--out NEWDIR] [--force] DIR)", err)
	}
	if fs.NArg() != 1 {
		return usagef("eos rerun: give one directory of a previous run (it holds config.json), after the flags")
	}
	dir := fs.Arg(0)
	cfg, err := readConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return err
	}
	if *out == "" {
		*out = filepath.Clean(dir) + "-rerun"
	}
	known := false
	for _, c := range commands() {
		known = known || (c.name == cfg.Command && c.name != "rerun")
	}
	if !known {
		return usagef("%s: command %q cannot be re-run (accepted: gd, model, kinetic, bench)", filepath.Join(dir, "config.json"), cfg.Command)
	}
	newArgs := []string{cfg.Command}
	for i := 0; i < len(cfg.Args); i++ {
		a := cfg.Args[i]
		name := strings.TrimLeft(a, "-")
		switch {
		case name == "out" || name == "resume":
			i++ // drop the old value
		case strings.HasPrefix(name, "out=") || strings.HasPrefix(name, "resume=") || name == "force":
		default:
			newArgs = append(newArgs, a)
		}
	}
	newArgs = append(newArgs, "--out", *out)
	if *force {
		newArgs = append(newArgs, "--force")
	}
	fmt.Fprintf(stderr, "eos rerun: eos %s\n", strings.Join(newArgs, " "))
	for _, c := range commands() {
		if c.name == cfg.Command {
			return c.run(ctx, newArgs[1:], stdout, stderr)
		}
	}
	return nil
}

// readConfig reads a run's config.json; a missing, unreadable or malformed
// file is a usage error naming it.
func readConfig(path string) (*config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, usagef("%s does not exist: is this the directory of an eos run?", path)
	}
	if err != nil {
		return nil, usagef("%s: %v", path, err)
	}
	var cfg config
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&cfg); err != nil {
		return nil, usagef("%s is malformed: %v", path, err)
	}
	if cfg.Command == "" {
		return nil, usagef("%s is malformed: no \"command\" field", path)
	}
	return &cfg, nil
}

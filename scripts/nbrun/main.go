// Command nbrun executes the project's GoNB notebooks headless and checks them.
//
// nbconvert exits 0 when a GoNB cell panics or exits non-zero, so nbrun reads
// each executed notebook and fails on any error output and on GoNB's
// "exit status N" and "signal: …" stderr lines. It also refuses committed
// notebooks that hold outputs, writes the executed notebooks and every inline
// PNG under -out, and collects the closing cells' summary rows into
// -out/summary.md.
//
//	go run ./scripts/nbrun -out out            # check, execute, summarise
//	go run ./scripts/nbrun -clean-only         # only check that notebooks hold no outputs
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/eoskit/eoskit/report"
)

func main() {
	dir := flag.String("notebooks", "notebooks", "directory of the notebooks to run")
	out := flag.String("out", "out", "directory for executed notebooks, figures and summary.md")
	only := flag.String("only", "", "run only notebooks whose file name contains this")
	timeout := flag.Duration("timeout", 15*time.Minute, "time limit per notebook")
	cleanOnly := flag.Bool("clean-only", false, "only check that committed notebooks hold no outputs")
	flag.Parse()
	if err := run(*dir, *out, *only, *timeout, *cleanOnly); err != nil {
		fmt.Fprintln(os.Stderr, "nbrun:", err)
		os.Exit(1)
	}
}

func run(dir, out, only string, timeout time.Duration, cleanOnly bool) error {
	paths, err := filepath.Glob(filepath.Join(dir, "*.ipynb"))
	if err != nil {
		return err
	}
	sort.Strings(paths)
	if only != "" {
		var kept []string
		for _, p := range paths {
			if strings.Contains(filepath.Base(p), only) {
				kept = append(kept, p)
			}
		}
		paths = kept
	}
	if len(paths) == 0 {
		return fmt.Errorf("no notebooks in %s matching %q", dir, only)
	}
	var dirty []string
	for _, p := range paths {
		nb, err := readNotebook(p)
		if err != nil {
			return err
		}
		for _, b := range outputsOf(nb) {
			dirty = append(dirty, p+": "+b)
		}
	}
	if len(dirty) > 0 {
		return fmt.Errorf("notebooks must be committed without outputs (strip them with `make strip`):\n  %s", strings.Join(dirty, "\n  "))
	}
	if cleanOnly {
		fmt.Printf("nbrun: %d notebooks hold no outputs\n", len(paths))
		return nil
	}

	executed := filepath.Join(out, "notebooks")
	figures := filepath.Join(out, "figures")
	logs := filepath.Join(out, "logs")
	for _, d := range []string{executed, figures, logs} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	type result struct {
		name    string
		elapsed time.Duration
		figures int
		rows    []report.Row
		err     error
	}
	var results []result
	failed := 0
	for i, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".ipynb")
		fmt.Printf("[%d/%d] %-28s ", i+1, len(paths), name)
		start := time.Now()
		r := result{name: name}
		r.err = execute(p, executed, filepath.Join(logs, name+".log"), timeout)
		r.elapsed = time.Since(start)
		if r.err == nil {
			var nb *notebook
			nb, r.err = readNotebook(filepath.Join(executed, name+".ipynb"))
			if r.err == nil {
				var problems []problem
				var pngs [][]byte
				problems, pngs, r.rows = inspect(nb)
				if len(problems) > 0 {
					var s []string
					for _, pr := range problems {
						s = append(s, pr.String())
					}
					r.err = errors.New(strings.Join(s, "\n"))
				}
				for j, png := range pngs {
					f := filepath.Join(figures, fmt.Sprintf("%s-%02d.png", name, j+1))
					if err := os.WriteFile(f, png, 0o644); err != nil && r.err == nil {
						r.err = err
					}
				}
				r.figures = len(pngs)
			}
		}
		if r.err != nil {
			failed++
			fmt.Printf("FAIL (%.1f s)\n%s\n", r.elapsed.Seconds(), indent(r.err.Error()))
		} else {
			fmt.Printf("ok   (%.1f s, %d figures, %d summary rows)\n", r.elapsed.Seconds(), r.figures, len(r.rows))
		}
		results = append(results, r)
	}

	var md bytes.Buffer
	fmt.Fprintf(&md, "# eoskit: experiment summary\n\n")
	fmt.Fprintf(&md, "| notebook | experiment | compared | metric | measured error | run time |\n|---|---|---|---|---|---|\n")
	var notes []string
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(&md, "| %s | FAILED | | | | %.1f s |\n", r.name, r.elapsed.Seconds())
			continue
		}
		if len(r.rows) == 0 {
			fmt.Fprintf(&md, "| %s | (no summary row) | | | | %.1f s |\n", r.name, r.elapsed.Seconds())
		}
		for _, row := range r.rows {
			fmt.Fprintf(&md, "| %s | %s | %s | %s | %.3g | %.1f s |\n", r.name, row.Experiment, row.Compared, row.Metric, row.Error, r.elapsed.Seconds())
			if row.Note != "" {
				notes = append(notes, fmt.Sprintf("- %s, %s: %s", r.name, row.Experiment, row.Note))
			}
		}
	}
	if len(notes) > 0 {
		fmt.Fprintf(&md, "\nNotes:\n%s\n", strings.Join(notes, "\n"))
	}
	if err := os.WriteFile(filepath.Join(out, "summary.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Printf("\n%s\nwritten to %s; executed notebooks in %s, figures in %s\n", md.String(), filepath.Join(out, "summary.md"), executed, figures)
	fmt.Printf("%d passed, %d failed\n", len(paths)-failed, failed)
	if failed > 0 {
		return fmt.Errorf("%d of %d notebooks failed (nbconvert logs in %s)", failed, len(paths), logs)
	}
	return nil
}

// execute runs one notebook through nbconvert with the project's GoNB kernel.
func execute(path, outDir, logPath string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/jupyter", "nbconvert", "--to", "notebook", "--execute",
		"--ExecutePreprocessor.kernel_name=gonb",
		fmt.Sprintf("--ExecutePreprocessor.timeout=%d", int(timeout.Seconds())),
		"--output-dir", outDir, path)
	log, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if os.Getenv("JUPYTER_DATA_DIR") == "" {
		// The kernel spec scripts/setup.sh registers lives in the checkout.
		if abs, err := filepath.Abs(".jupyter"); err == nil {
			cmd.Env = append(os.Environ(), "JUPYTER_DATA_DIR="+abs)
		}
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("nbconvert failed (%v); last lines of %s:\n%s", err, logPath, indent(tailFile(logPath, 25)))
	}
	return nil
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	return tail(string(b), n)
}

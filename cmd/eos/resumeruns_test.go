package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// resumeCase is a run of a command interrupted and resumed.
type resumeCase struct {
	name       string
	args       []string
	interrupts []int // each run stops at its n-th check of the context
	// kill, when set, removes the outputs other than config.json and the
	// checkpoint after each interrupt, as a kill -9 after the last
	// periodic checkpoint would leave the directory.
	kill bool
	// says are what the messages of the interrupts must contain, in turn.
	says []string
}

// checkResumed runs command with tc.args uninterrupted, then interrupted at
// each of tc.interrupts and resumed, and checks that each interrupt exits
// with 130, says how to resume and leaves a checkpoint and readable
// outputs, and that the resumed run's files are those of the uninterrupted
// run, byte for byte (the oracle), with no checkpoint left.
func checkResumed(t *testing.T, command string, files []string, tc resumeCase) {
	t.Helper()
	tmp := t.TempDir()
	ref := filepath.Join(tmp, "ref")
	code, wantOut, stderr := eosRun(t, append([]string{command, "--out", ref, "--quiet"}, tc.args...)...)
	if code != exitOK {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}
	dir := filepath.Join(tmp, "run")
	args := append([]string{command, "--out", dir, "--quiet"}, tc.args...)
	for i, n := range tc.interrupts {
		code, _, stderr := eosRunCtx(t, &interruptBefore{Context: context.Background(), n: n}, args...)
		if i < len(tc.says) && !strings.Contains(stderr, tc.says[i]) {
			t.Errorf("interrupt %d: message %q lacks %q", i, stderr, tc.says[i])
		}
		if code != exitInterrupted {
			t.Fatalf("interrupted at check %d: exit %d, want %d: %s", n, code, exitInterrupted, stderr)
		}
		if want := "eos " + command + " --resume " + dir; !strings.Contains(stderr, want) {
			t.Errorf("message %q lacks %q", stderr, want)
		}
		if _, err := os.Stat(filepath.Join(dir, checkpointName)); err != nil {
			t.Fatalf("no checkpoint after the interrupt: %v", err)
		}
		for _, f := range files {
			if !strings.HasSuffix(f, ".csv") {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				readCSV(t, filepath.Join(dir, f)) // fails on a partial row
			}
			if tc.kill {
				os.Remove(filepath.Join(dir, f))
			}
		}
		args = []string{command, "--resume", dir}
	}
	// What a kill in the middle of writing the checkpoint or an output
	// leaves behind: removed by the resume.
	stale := []string{"." + checkpointName + ".tmp-123", "." + files[0] + ".tmp-456"}
	for _, f := range stale {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, stderr := eosRun(t, args...)
	if code != exitOK {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "resuming "+dir) {
		t.Errorf("the resume does not say it resumes: %q", stderr)
	}
	for _, f := range stale {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale temporary file %s left after the resume (%v)", f, err)
		}
	}
	for _, f := range files {
		want, _ := os.ReadFile(filepath.Join(ref, f))
		got, _ := os.ReadFile(filepath.Join(dir, f))
		if len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("resumed %s (%d bytes) differs from the uninterrupted one (%d bytes)", f, len(got), len(want))
		}
	}
	if g, w := strings.SplitN(out, "\nwrote", 2)[0], strings.SplitN(wantOut, "\nwrote", 2)[0]; g != w {
		t.Errorf("resumed report %q, uninterrupted %q", g, w)
	}
	if _, err := os.Stat(filepath.Join(dir, checkpointName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("checkpoint left after the run completed (%v)", err)
	}
}

func TestModelResume(t *testing.T) {
	mf := []string{"--problem", "mf", "--target", "5.5,1", "--eta", "0.077", "--seed", "2", "--start", "30", "--steps", "150"}
	for _, tc := range []resumeCase{
		// Before the flow starts, and while it runs; the sharpness is
		// measured at every step, so the eigensolvers' warm starts carry.
		{name: "free-energy before the flow", args: append(mf, "--flow", "free-energy", "--eig-every", "1"), interrupts: []int{20},
			says: []string{"before GD step 20: "}},
		{name: "free-energy twice", args: append(mf, "--flow", "free-energy", "--eig-every", "3"), interrupts: []int{50, 70},
			says: []string{"before GD step 50: ", "before GD step 120: "}},
		{name: "covariance", args: append(mf, "--flow", "covariance"), interrupts: []int{100}},
		{name: "central", args: append(mf, "--flow", "central"), interrupts: []int{90}},
		{name: "gradient dopri5", args: append(mf, "--flow", "gradient", "--method", "dopri5"), interrupts: []int{77}},
		// Killed after a periodic checkpoint: the outputs are rebuilt
		// from the checkpoint alone.
		{name: "killed", args: append(mf, "--flow", "free-energy", "--checkpoint-every", "40"), interrupts: []int{60}, kill: true},
		{name: "mlp", args: []string{"--problem", "mlp", "--data", "synthetic", "--n", "40", "--width", "8", "--eta", "1",
			"--start", "10", "--steps", "40", "--eig-every", "5", "--flow", "free-energy"}, interrupts: []int{25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkResumed(t, "model", []string{"model.csv", "gd.csv", "summary.json"}, tc)
		})
	}
}

// checkResumeRefused interrupts a run of command, spoils a copy of its
// directory in each way of cases, and checks that the resume exits with
// status 2 naming what was wrong, leaving the files as they were; the
// intact run then still resumes.
func checkResumeRefused(t *testing.T, command string, args []string, interrupt int, cases []refusedCase) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	code, _, stderr := eosRunCtx(t, &interruptBefore{Context: context.Background(), n: interrupt},
		append([]string{command, "--out", src, "--quiet"}, args...)...)
	if code != exitInterrupted {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "run")
			if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
				t.Fatal(err)
			}
			if tc.spoil != nil {
				tc.spoil(t, dir)
			}
			before := snapshotDir(t, dir)
			code, _, stderr := eosRun(t, append([]string{command, "--resume", dir, "--quiet"}, tc.args...)...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d: %s", code, exitUsage, stderr)
			}
			want := tc.want
			if !strings.HasPrefix(want, "--") {
				want = filepath.Join(dir, want)
			}
			if !strings.Contains(stderr, want) {
				t.Errorf("message %q does not name %s", stderr, want)
			}
			if strings.Contains(stderr, "resuming") {
				t.Errorf("a refused resume says it resumes: %q", stderr)
			}
			if after := snapshotDir(t, dir); after != before {
				t.Error("a refused resume changed the run directory")
			}
		})
	}
	if code, _, stderr := eosRun(t, command, "--resume", src, "--quiet"); code != exitOK {
		t.Errorf("resume of the intact run: exit %d: %s", code, stderr)
	}
}

// refusedCase is a way to spoil an interrupted run directory.
type refusedCase struct {
	name  string
	spoil func(t *testing.T, dir string)
	args  []string
	want  string // what the message must name: a flag, or a file of the run
}

// snapshotDir returns the names and contents of the files in dir.
func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range ents {
		c, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		b.WriteString(e.Name() + "\x00" + string(c) + "\x00")
	}
	return b.String()
}

// spoilFile replaces the file name of a run directory by f of its bytes.
func spoilFile(name string, f func([]byte) []byte) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		path := filepath.Join(dir, name)
		b, _ := os.ReadFile(path)
		if err := os.WriteFile(path, f(bytes.Clone(b)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// commonRefusals are the refusals every resumable command shares.
func commonRefusals() []refusedCase {
	return []refusedCase{
		{"damaged checkpoint", spoilFile(checkpointName, func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }), nil, checkpointName},
		{"truncated checkpoint", spoilFile(checkpointName, func(b []byte) []byte { return b[:len(b)-9] }), nil, checkpointName},
		{"no checkpoint", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, checkpointName)) }, nil, checkpointName},
		{"no config", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "config.json")) }, nil, "config.json"},
		{"other out", nil, []string{"--out", "elsewhere"}, "--out"},
	}
}

func TestModelResumeRefused(t *testing.T) {
	gdDir := filepath.Join(t.TempDir(), "gd")
	if code, _, stderr := eosRunCtx(t, &interruptBefore{Context: context.Background(), n: 30}, "gd", "--target", "5.5,1", "--steps", "100", "--out", gdDir, "--quiet"); code != exitInterrupted {
		t.Fatalf("eos gd: exit %d: %s", code, stderr)
	}
	cases := append(commonRefusals(),
		refusedCase{"other flow", nil, []string{"--flow", "gradient"}, "--flow"},
		refusedCase{"other start", nil, []string{"--start", "5"}, "--start"},
		// A checkpoint of eos gd in place of the model's: refused by
		// kind, before anything runs.
		refusedCase{"gd checkpoint", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(gdDir, checkpointName))
			os.WriteFile(filepath.Join(dir, checkpointName), b, 0o644)
		}, nil, checkpointName},
	)
	checkResumeRefused(t, "model", []string{"--target", "5.5,1", "--eta", "0.077", "--start", "20", "--steps", "100"}, 40, cases)
}

func TestKineticResume(t *testing.T) {
	// GD checks for an interrupt before each of its steps 1…60 (60
	// checks), the simulation after each of its steps 20…59 (40 more):
	// check 30 falls in GD, check 80 in the simulation.
	small := []string{"--width", "32", "--particles", "16", "--steps", "60", "--n", "50", "--seed", "3"}
	for _, tc := range []resumeCase{
		{name: "in GD", args: append(small, "--eig-every", "4"), interrupts: []int{30}, says: []string{"in GD before step 30"}},
		{name: "in the simulation", args: append(small, "--eig-every", "4"), interrupts: []int{80},
			says: []string{"in the kinetic simulation before step 40"}},
		{name: "in both", args: append(small, "--quadrature", "quasi", "--antithetic"), interrupts: []int{10, 70},
			says: []string{"in GD before step 10", "in the kinetic simulation before step 40"}},
		{name: "killed", args: append(small, "--checkpoint-every", "9"), interrupts: []int{85}, kill: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkResumed(t, "kinetic", []string{"kinetic.csv", "gd.csv", "particles.csv", "summary.json"}, tc)
		})
	}
}

func TestKineticResumeRefused(t *testing.T) {
	small := []string{"--width", "32", "--particles", "16", "--steps", "60", "--n", "50"}
	cases := append(commonRefusals(),
		refusedCase{"other particles", nil, []string{"--particles", "8"}, "--particles"},
		refusedCase{"other seed", nil, []string{"--seed", "9"}, "--seed"},
	)
	checkResumeRefused(t, "kinetic", small, 80, cases)
}

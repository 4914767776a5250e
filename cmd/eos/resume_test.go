package main

import (
	"bytes"
	"context"
	"errors"
	"github.com/eoskit/eoskit/eos"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// interruptBefore is a context that reports cancellation, as SIGINT does
// through signal.NotifyContext, from the n-th call of Err on. eos gd checks
// it once between every two steps, so a run given it stops before step
// first+n, where first is the step it started at: a deterministic stand-in
// for a signal.
type interruptBefore struct {
	context.Context
	n, calls int
}

func (c *interruptBefore) Err() error {
	c.calls++
	if c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

func eosRunCtx(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = dispatch(ctx, args, &o, &e)
	return code, o.String(), e.String()
}

// checkTraceRows fails t unless the trace at path is a CSV of complete rows
// for steps 0 … last.
func checkTraceRows(t *testing.T, path string, last int) {
	t.Helper()
	_, rows := readCSV(t, path) // fails on a partial row
	if len(rows) != last+1 {
		t.Fatalf("%s has %d rows, want %d (steps 0…%d)", path, len(rows), last+1, last)
	}
	for i, r := range rows {
		if r[0] != strconv.Itoa(i) {
			t.Fatalf("%s: row %d is step %s", path, i, r[0])
		}
	}
}

func TestGDResume(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		interrupts []int // each run stops before its n-th step
		resume     []string
	}{
		// The period-4 orbit of diag(6, 1): the sharpness changes at
		// every step, so the eigensolver's warm start is exercised.
		{"mf sharpness every step", []string{"--target", "6,1", "--steps", "300", "--eig-every", "1"}, []int{123}, nil},
		// Stopped between two measurements, with periodic checkpoints
		// before the interrupt.
		{"mf eig-every 7", []string{"--target", "6,1", "--steps", "300", "--eig-every", "7", "--checkpoint-every", "50"}, []int{124}, nil},
		// Interrupted, resumed, interrupted again; the last resume
		// repeats recorded flags with their recorded values, which is
		// allowed, and changes --checkpoint-every, which may change.
		{"interrupted twice", []string{"--target", "5.5,1", "--steps", "300", "--seed", "4"}, []int{40, 100},
			[]string{"--steps", "300", "--target", "5.5,1", "--checkpoint-every", "25"}},
		{"mlp", []string{"--problem", "mlp", "--data", "synthetic", "--n", "40", "--width", "8", "--eta", "1", "--steps", "80", "--eig-every", "5"}, []int{31}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			ref := filepath.Join(tmp, "ref")
			code, wantOut, stderr := eosRun(t, append([]string{"gd", "--out", ref, "--quiet"}, tc.args...)...)
			if code != exitOK {
				t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
			}
			want, _ := os.ReadFile(filepath.Join(ref, "trace.csv"))

			dir := filepath.Join(tmp, "run")
			args := append([]string{"gd", "--out", dir, "--quiet"}, tc.args...)
			first := 0
			for _, n := range tc.interrupts {
				code, _, stderr := eosRunCtx(t, &interruptBefore{Context: context.Background(), n: n}, args...)
				stop := first + n
				if code != exitInterrupted {
					t.Fatalf("interrupted before step %d: exit %d, want %d: %s", stop, code, exitInterrupted, stderr)
				}
				for _, s := range []string{"before step " + strconv.Itoa(stop), "eos gd --resume " + dir} {
					if !strings.Contains(stderr, s) {
						t.Errorf("message %q lacks %q", stderr, s)
					}
				}
				checkTraceRows(t, filepath.Join(dir, "trace.csv"), stop-1)
				if _, err := os.Stat(filepath.Join(dir, checkpointName)); err != nil {
					t.Fatalf("no checkpoint after the interrupt: %v", err)
				}
				args, first = []string{"gd", "--resume", dir}, stop
			}
			code, out, stderr := eosRun(t, append(args, tc.resume...)...)
			if code != exitOK {
				t.Fatalf("resume: exit %d: %s", code, stderr)
			}
			// Oracle: the uninterrupted run, byte for byte, and its
			// summary (same totals, same final losses).
			got, _ := os.ReadFile(filepath.Join(dir, "trace.csv"))
			if len(want) == 0 || !bytes.Equal(got, want) {
				t.Errorf("resumed trace.csv (%d bytes) differs from the uninterrupted one (%d bytes)", len(got), len(want))
			}
			if g, w := strings.SplitN(out, "\n", 2)[0], strings.SplitN(wantOut, "\n", 2)[0]; g != w {
				t.Errorf("resumed summary %q, uninterrupted %q", g, w)
			}
			if _, err := os.Stat(filepath.Join(dir, checkpointName)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("checkpoint left after the run completed (%v)", err)
			}
		})
	}
}

func TestGDResumeRefused(t *testing.T) {
	cases := append(commonRefusals(),
		refusedCase{"not a checkpoint", spoilFile(checkpointName, func([]byte) []byte { return []byte("step,loss\n") }), nil, checkpointName},
		refusedCase{"trace changed", spoilFile("trace.csv", func(b []byte) []byte { b[100]++; return b }), nil, "trace.csv"},
		refusedCase{"trace cut", spoilFile("trace.csv", func(b []byte) []byte { return b[:len(b)/3] }), nil, "trace.csv"},
		refusedCase{"other eta", nil, []string{"--eta", "0.08"}, "--eta"},
		refusedCase{"other problem", nil, []string{"--target", "6,2"}, "--target"},
		refusedCase{"negative checkpoint-every", nil, []string{"--checkpoint-every", "-1"}, "--checkpoint-every"},
	)
	checkResumeRefused(t, "gd", []string{"--target", "6,1", "--steps", "200", "--checkpoint-every", "20"}, 77, cases)
}

// TestGDSignal sends real signals to a built eos: SIGINT must stop the run
// with status 130, a trace of complete rows and a checkpoint; SIGKILL, which
// cannot be caught, must leave the last periodic checkpoint usable. In both
// cases --resume must finish the trace byte for byte as the run that was not
// stopped.
func TestGDSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the eos binary and runs it for seconds")
	}
	tmp := t.TempDir()
	bin := buildEOS(t, tmp)
	// Long enough that the signal, sent once the first checkpoint is on
	// disk, arrives well before the end.
	args := []string{"--target", "6,1", "--steps", "20000", "--checkpoint-every", "500"}
	ref := filepath.Join(tmp, "ref")
	if code, _, stderr := eosRun(t, append([]string{"gd", "--out", ref, "--quiet"}, args...)...); code != exitOK {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}
	want, _ := os.ReadFile(filepath.Join(ref, "trace.csv"))

	for _, tc := range []struct {
		sig  os.Signal
		code int
	}{
		{os.Interrupt, exitInterrupted},
		{syscall.SIGTERM, exitInterrupted},
		{os.Kill, -1}, // killed: no exit status
	} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			dir := filepath.Join(tmp, strings.ReplaceAll(tc.sig.String(), " ", "-"))
			got, stderr := signalAfterCheckpoint(t, bin, append([]string{"gd", "--out", dir, "--quiet"}, args...), dir, tc.sig)
			if got != tc.code {
				t.Fatalf("exit status %d, want %d; stderr: %s", got, tc.code, stderr)
			}
			if tc.code == exitInterrupted {
				if !strings.Contains(stderr, "eos gd --resume "+dir) {
					t.Errorf("message %q does not say how to resume", stderr)
				}
				_, rows := readCSV(t, filepath.Join(dir, "trace.csv"))
				if len(rows) == 0 || len(rows) >= 20001 {
					t.Errorf("interrupted trace has %d rows, want some but not all of 20001", len(rows))
				}
			}
			if code, _, stderr := eosRun(t, "gd", "--resume", dir); code != exitOK {
				t.Fatalf("resume: exit %d: %s", code, stderr)
			}
			if got, _ := os.ReadFile(filepath.Join(dir, "trace.csv")); len(want) == 0 || !bytes.Equal(got, want) {
				t.Errorf("resumed trace.csv (%d bytes) differs from the uninterrupted one (%d bytes)", len(got), len(want))
			}
		})
	}
}

// buildEOS builds the eos binary into dir, skipping t when no go tool is
// found.
func buildEOS(t *testing.T, dir string) string {
	t.Helper()
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build eos with")
	}
	bin := filepath.Join(dir, "eos")
	// The binary must multiply matrices with the BLAS this test runs on, or
	// its outputs differ from the in-process reference in the last digits.
	tags := ""
	if eos.BLASBackend == "openblas" {
		tags = "openblas"
	}
	if out, err := exec.Command(gotool, "build", "-tags", tags, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestModelSignal sends SIGINT to a built eos model: it must stop with
// status 130, the rows so far and a checkpoint, and --resume must finish
// every output byte for byte as the run that was not stopped.
func TestModelSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the eos binary and runs it for seconds")
	}
	tmp := t.TempDir()
	bin := buildEOS(t, tmp)
	args := []string{"--target", "5.5,1", "--eta", "0.077", "--start", "20", "--steps", "30000", "--eig-every", "-1", "--checkpoint-every", "1000"}
	ref := filepath.Join(tmp, "ref")
	if code, _, stderr := eosRun(t, append([]string{"model", "--out", ref, "--quiet"}, args...)...); code != exitOK {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}
	dir := filepath.Join(tmp, "run")
	got, stderr := signalAfterCheckpoint(t, bin, append([]string{"model", "--out", dir, "--quiet"}, args...), dir, os.Interrupt)
	if got != exitInterrupted {
		t.Fatalf("exit status %d, want %d; stderr: %s", got, exitInterrupted, stderr)
	}
	if !strings.Contains(stderr, "eos model --resume "+dir) {
		t.Errorf("message %q does not say how to resume", stderr)
	}
	_, rows := readCSV(t, filepath.Join(dir, "model.csv"))
	if len(rows) == 0 || len(rows) >= 30000 {
		t.Errorf("interrupted model.csv has %d rows, want some but not all of 30000", len(rows))
	}
	if code, _, stderr := eosRun(t, "model", "--resume", dir); code != exitOK {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	for _, f := range []string{"model.csv", "gd.csv", "summary.json"} {
		want, _ := os.ReadFile(filepath.Join(ref, f))
		if got, _ := os.ReadFile(filepath.Join(dir, f)); len(want) == 0 || !bytes.Equal(got, want) {
			t.Errorf("resumed %s (%d bytes) differs from the uninterrupted one (%d bytes)", f, len(got), len(want))
		}
	}
}

// signalAfterCheckpoint starts bin with args, waits until its first
// checkpoint is in dir, sends it sig and returns its exit status (-1 when
// killed) and what it wrote on stderr.
func signalAfterCheckpoint(t *testing.T, bin string, args []string, dir string, sig os.Signal) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dir, checkpointName)); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("eos ended (%v) before its first checkpoint: %s", err, &stderr)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint within a minute")
		}
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	<-done
	return cmd.ProcessState.ExitCode(), stderr.String()
}

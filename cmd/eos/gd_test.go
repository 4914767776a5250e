package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// eos runs the command in-process and returns its exit status and output.
func eosRun(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = dispatch(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func readCSV(t *testing.T, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs[0], recs[1:]
}

func TestGDContract(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := eosRun(t, "gd", "--problem", "mf", "--dim", "2", "--depth", "3", "--target", "5.5,1",
		"--eta", "0.077", "--steps", "300", "--seed", "1", "--out", out, "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	header, rows := readCSV(t, filepath.Join(out, "trace.csv"))
	want := []string{"step", "loss", "sharpness", "grad_norm", "loss_mean2", "u_norm"}
	if strings.Join(header, ",") != strings.Join(want, ",") {
		t.Errorf("header %v, want %v", header, want)
	}
	if len(rows) != 301 {
		t.Errorf("%d rows, want 301 (steps 0…300)", len(rows))
	}
	var cfg config
	b, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"problem", "dim", "depth", "target", "eta", "steps", "seed", "init-scale", "eig-every", "out"} {
		if _, ok := cfg.Flags[f]; !ok {
			t.Errorf("config.json lacks flag %q", f)
		}
	}
	if cfg.Flags["target"] != "5.5,1" || cfg.Module != "github.com/eoskit/eoskit" || cfg.Commit == "" {
		t.Errorf("config.json: %+v", cfg)
	}
	if !strings.Contains(stdout, "period of the last 100 losses: 2") {
		t.Errorf("stdout %q does not report period 2 for diag(5.5, 1)", stdout)
	}
}

func TestGDReproducible(t *testing.T) {
	dir := t.TempDir()
	var traces [2][]byte
	for i := range traces {
		out := filepath.Join(dir, string(rune('a'+i)))
		if code, _, stderr := eosRun(t, "gd", "--target", "6,1", "--steps", "400", "--seed", "7", "--out", out, "--quiet"); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, "trace.csv"))
		if err != nil {
			t.Fatal(err)
		}
		traces[i] = b
	}
	if !bytes.Equal(traces[0], traces[1]) {
		t.Error("two runs with the same flags and seed wrote different trace.csv")
	}
}

func TestGDBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the flag the message must name
	}{
		{[]string{"--eta", "0"}, "--eta"},
		{[]string{"--eta", "-1"}, "--eta"},
		{[]string{"--eta", "NaN"}, "--eta"},
		{[]string{"--steps", "0"}, "--steps"},
		{[]string{"--problem", "svm"}, "--problem"},
		{[]string{"--target", "5.5"}, "--target"},
		{[]string{"--target", "5.5,x"}, "--target"},
		{[]string{"--problem", "mlp", "--width", "0"}, "--width"},
		{[]string{"--problem", "mlp", "--data", "imagenet"}, "--data"},
		{[]string{"--problem", "mlp", "--act", "sigmoid"}, "--act"},
		{[]string{"--problem", "mlp", "--data", "cifar10", "--data-dir", "/nonexistent"}, "/nonexistent"},
		{[]string{"--init-scale", "0"}, "--init-scale"},
		{[]string{"--no-such-flag"}, "no-such-flag"},
	} {
		out := filepath.Join(t.TempDir(), "run")
		args := append([]string{"gd", "--out", out, "--steps", "5"}, tc.args...)
		code, _, stderr := eosRun(t, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, exitUsage)
		}
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: message %q does not name %q", tc.args, stderr, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: --out was created despite the bad input", tc.args)
		}
	}
}

func TestGDRefusesNonEmptyOut(t *testing.T) {
	out := t.TempDir()
	if err := os.WriteFile(filepath.Join(out, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := eosRun(t, "gd", "--steps", "5", "--out", out)
	if code != exitUsage || !strings.Contains(stderr, "--force") {
		t.Fatalf("exit %d, %q: want a refusal that mentions --force", code, stderr)
	}
	if code, _, stderr := eosRun(t, "gd", "--steps", "5", "--out", out, "--force", "--quiet"); code != 0 {
		t.Fatalf("--force: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(out, "notes.txt")); err != nil || string(b) != "mine" {
		t.Error("--force removed a file eos gd does not own")
	}
}

func TestGDDivergence(t *testing.T) {
	// η = 1 on the factorisation: initial sharpness ≈ 4 > 2/η, the loss
	// blows up within a few steps.
	out := filepath.Join(t.TempDir(), "run")
	code, _, stderr := eosRun(t, "gd", "--eta", "1", "--steps", "1000", "--out", out, "--quiet")
	if code != exitDiverged {
		t.Fatalf("exit %d, want %d; stderr: %s", code, exitDiverged, stderr)
	}
	for _, want := range []string{"diverged at step", "η=1", "sharpness"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("message %q lacks %q", stderr, want)
		}
	}
	_, rows := readCSV(t, filepath.Join(out, "trace.csv"))
	if len(rows) == 0 || len(rows) >= 1001 {
		t.Errorf("trace kept %d rows, want the steps before divergence", len(rows))
	}
}

func TestRerun(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first")
	if code, _, stderr := eosRun(t, "gd", "--target", "5.2,1", "--steps", "200", "--seed", "3", "--out", first, "--quiet"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	again := filepath.Join(dir, "again")
	if code, _, stderr := eosRun(t, "rerun", "--out", again, first); code != 0 {
		t.Fatalf("rerun: exit %d: %s", code, stderr)
	}
	a, _ := os.ReadFile(filepath.Join(first, "trace.csv"))
	b, _ := os.ReadFile(filepath.Join(again, "trace.csv"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Error("eos rerun did not reproduce trace.csv byte for byte")
	}
	// A malformed config is a usage error naming the file.
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "config.json"), []byte("{not json"), 0o644)
	code, _, stderr := eosRun(t, "rerun", bad)
	if code != exitUsage || !strings.Contains(stderr, "config.json") {
		t.Errorf("malformed config: exit %d, %q", code, stderr)
	}
	if code, _, _ := eosRun(t, "rerun", filepath.Join(dir, "missing")); code != exitUsage {
		t.Errorf("missing directory: exit %d, want %d", code, exitUsage)
	}
}

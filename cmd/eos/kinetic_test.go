package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKineticContract(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := eosRun(t, "kinetic", "--width", "32", "--particles", "16", "--eta", "0.8",
		"--steps", "40", "--seed", "1", "--n", "40", "--out", out, "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"kinetic.csv", "gd.csv", "particles.csv", "config.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	_, rows := readCSV(t, filepath.Join(out, "particles.csv"))
	if len(rows) != 16 {
		t.Errorf("particles.csv has %d rows, want one per particle (16)", len(rows))
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"late_loss_gd", "late_loss_kinetic", "w1_amplitude", "energy_identity_rel_err"} {
		if _, ok := sum[k].(float64); !ok {
			t.Errorf("summary.json: %s = %v, want a number", k, sum[k])
		}
	}
	if !strings.Contains(stdout, "late time-averaged loss") {
		t.Errorf("stdout lacks the comparison: %q", stdout)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--width", "0"}, "--width"},
		{[]string{"--particles", "0"}, "--particles"},
		{[]string{"--eta", "-0.8"}, "--eta"},
		{[]string{"--steps", "1"}, "--steps"},
		{[]string{"--quadrature", "sobolx"}, "--quadrature"},
		{[]string{"--data", "imagenet"}, "--data"},
		{[]string{"--target-scale", "0"}, "--target-scale"},
	} {
		dir := filepath.Join(t.TempDir(), "bad")
		code, _, stderr := eosRun(t, append([]string{"kinetic", "--out", dir}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want %d naming %s", tc.args, code, stderr, exitUsage, tc.want)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%v: --out created despite bad input", tc.args)
		}
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModelContract(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := eosRun(t, "model", "--problem", "mf", "--dim", "2", "--depth", "3", "--target", "5.5,1",
		"--eta", "0.077", "--seed", "1", "--start", "20", "--steps", "300", "--flow", "free-energy", "--out", out, "--quiet")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	header, rows := readCSV(t, filepath.Join(out, "model.csv"))
	if got, want := strings.Join(header, ","), "step,loss_mean,loss_lo,loss_hi,free_energy,sharpness,u_norm"; got != want {
		t.Errorf("model.csv header %q, want %q", got, want)
	}
	if len(rows) != 300 {
		t.Errorf("model.csv has %d rows, want 300", len(rows))
	}
	header, rows = readCSV(t, filepath.Join(out, "gd.csv"))
	if got, want := strings.Join(header, ","), "step,loss,loss_mean2,u_norm"; got != want {
		t.Errorf("gd.csv header %q, want %q", got, want)
	}
	if len(rows) != 300 {
		t.Errorf("gd.csv has %d rows, want 300", len(rows))
	}
	b, err := os.ReadFile(filepath.Join(out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sum map[string]any
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"median_rel_err_loss_mean", "p95_rel_err_loss_mean", "max_rel_err_loss_mean",
		"free_energy_rise_fraction", "gd_loss_rise_fraction", "grad_evals_per_step"} {
		if _, ok := sum[k].(float64); !ok {
			t.Errorf("summary.json: %s = %v, want a number", k, sum[k])
		}
	}
	// The model converges to GD's period-2 orbit (eos package tests measure
	// this in detail): the median error is far below 1e-4.
	if m := sum["median_rel_err_loss_mean"].(float64); !(m < 1e-4) {
		t.Errorf("median relative error %g, want < 1e-4", m)
	}
	if !strings.Contains(stdout, "relative error: median") {
		t.Errorf("stdout lacks the summary: %q", stdout)
	}
}

func TestModelFlowsAndBadInput(t *testing.T) {
	for _, flow := range []string{"central", "gradient", "covariance"} {
		out := filepath.Join(t.TempDir(), flow)
		if code, _, stderr := eosRun(t, "model", "--flow", flow, "--steps", "50", "--out", out, "--quiet"); code != 0 {
			t.Errorf("--flow %s: exit %d: %s", flow, code, stderr)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--flow", "magic"}, "--flow"},
		{[]string{"--start", "-1"}, "--start"},
		{[]string{"--method", "rk45x"}, "--method"},
		{[]string{"--substeps", "-2"}, "--substeps"},
		{[]string{"--eta", "0"}, "--eta"},
	} {
		out := filepath.Join(t.TempDir(), "run")
		code, _, stderr := eosRun(t, append([]string{"model", "--steps", "5", "--out", out}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, %q; want %d naming %s", tc.args, code, stderr, exitUsage, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: --out created despite bad input", tc.args)
		}
	}
}

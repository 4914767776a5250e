package main

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// benchJSON decodes the single JSON line a bench command printed.
func benchJSON(t *testing.T, stdout string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("bench printed %d lines, want 1:\n%s", len(lines), stdout)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("bench output is not JSON: %v\n%s", err, stdout)
	}
	return m
}

// TestBenchMLP runs the MLP bench on a tiny size and checks the fields the
// issue asks for: positive finite times and rate, the sizes echoed, and the
// sharpness to 1e-4 relative accuracy against the command's own reference
// (Lanczos to residual 1e-10; eos's tests check Lanczos against dense
// eigendecompositions).
func TestBenchMLP(t *testing.T) {
	code, stdout, stderr := eosRun(t, "bench", "mlp", "--n", "30", "--d", "12", "--width", "8", "--classes", "3",
		"--steps", "2", "--hvps", "2", "--model-steps", "1", "--check")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	m := benchJSON(t, stdout)
	for _, f := range []string{"step_s", "hvp_s", "hvp_cold_s", "sharpness_s", "sharpness20_s", "sharpness20", "model_step_s", "step_gflops", "sharpness", "model_grads_per_step"} {
		v, ok := m[f].(float64)
		if !ok || !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("%s = %v, want a positive finite number", f, m[f])
		}
	}
	for f, want := range map[string]float64{"n": 30, "d": 12, "h": 8, "k": 3} {
		if m[f] != want {
			t.Errorf("%s = %v, want %v", f, m[f], want)
		}
	}
	if e, ok := m["sharpness_rel_err"].(float64); !ok || !(e <= 1e-4) {
		t.Errorf("sharpness_rel_err = %v, want ≤ 1e-4", m["sharpness_rel_err"])
	}
	if h, ok := m["sharpness_hvps"].(float64); !ok || h < 1 {
		t.Errorf("sharpness_hvps = %v, want ≥ 1", m["sharpness_hvps"])
	}
	for _, f := range []string{"blas", "impl", "go"} {
		if s, ok := m[f].(string); !ok || s == "" {
			t.Errorf("%s = %v, want a name", f, m[f])
		}
	}

	// Without the model, model_step_s is null.
	code, stdout, stderr = eosRun(t, "bench", "mlp", "--n", "10", "--d", "4", "--width", "3", "--classes", "2",
		"--steps", "1", "--hvps", "1", "--model-steps", "0")
	if code != exitOK {
		t.Fatalf("--model-steps 0: exit %d, stderr:\n%s", code, stderr)
	}
	if v, ok := benchJSON(t, stdout)["model_step_s"]; !ok || v != nil {
		t.Errorf("--model-steps 0: model_step_s = %v, want null", v)
	}
}

func TestBenchGemm(t *testing.T) {
	code, stdout, stderr := eosRun(t, "bench", "gemm", "--size", "32", "--reps", "2")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	m := benchJSON(t, stdout)
	if m["size"] != 32.0 {
		t.Errorf("size = %v, want 32", m["size"])
	}
	for _, f := range []string{"gemm_s", "gflops"} {
		if v, ok := m[f].(float64); !ok || !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("%s = %v, want a positive finite number", f, m[f])
		}
	}
}

func TestBenchBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // what the message must name
	}{
		{nil, "mlp or gemm"},
		{[]string{"resnet"}, `"resnet"`},
		{[]string{"mlp", "--n", "0"}, "--n"},
		{[]string{"mlp", "--d", "-1"}, "--d"},
		{[]string{"mlp", "--width", "0"}, "--width"},
		{[]string{"mlp", "--classes", "0"}, "--classes"},
		{[]string{"mlp", "--steps", "0"}, "--steps"},
		{[]string{"mlp", "--hvps", "0"}, "--hvps"},
		{[]string{"mlp", "--model-steps", "-1"}, "--model-steps"},
		{[]string{"mlp", "--eta", "0"}, "--eta"},
		{[]string{"mlp", "--eta", "Inf"}, "--eta"},
		{[]string{"mlp", "--tol", "0"}, "--tol"},
		{[]string{"mlp", "--tol", "1"}, "--tol"},
		{[]string{"mlp", "--no-such-flag"}, "no-such-flag"},
		{[]string{"mlp", "extra"}, `"extra"`},
		{[]string{"gemm", "--size", "0"}, "--size"},
		{[]string{"gemm", "--reps", "0"}, "--reps"},
	} {
		code, stdout, stderr := eosRun(t, append([]string{"bench"}, tc.args...)...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, exitUsage)
		}
		if !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: message %q does not name %q", tc.args, stderr, tc.want)
		}
		if stdout != "" {
			t.Errorf("%v: printed %q on stdout, want nothing", tc.args, stdout)
		}
	}
}

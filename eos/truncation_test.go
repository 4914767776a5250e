package eos

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
)

func TestTruncationGapAnalytic(t *testing.T) {
	// Oracle: for E = Σ_i (½b_i x_i² + ¼a_i x_i⁴), expanding by hand,
	//	L_sym − (E + ½uᵀHu) = ¼ Σ_i a_i u_i⁴,
	// the centre components of the two fields agree exactly (the
	// gradient is cubic, so its second difference is exact), and the u
	// components differ by a_i u_i³.
	q := quarticSep{a: []float64{1, 3, 0.5}, b: []float64{20, -2, 4}}
	for _, tc := range []struct {
		name string
		c, u []float64
	}{
		{"unit scale", []float64{0.3, -0.7, 1.1}, []float64{0.5, 0.2, -0.9}},
		{"small oscillation", []float64{1, 2, -1}, []float64{0.01, -0.03, 0.02}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loss, field, err := TruncationGap(q, 0.077, tc.c, tc.u)
			if err != nil {
				t.Fatal(err)
			}
			var wantLoss, wantField2 float64
			for i, ui := range tc.u {
				wantLoss += 0.25 * q.a[i] * ui * ui * ui * ui
				wantField2 += math.Pow(q.a[i]*ui*ui*ui, 2)
			}
			wantField := math.Sqrt(wantField2)
			// The gap is a difference of losses of size E(θ̄): it carries a
			// rounding error of a few ε·E(θ̄).
			if tol := 1e-10*wantLoss + 1e-14*q.Loss(tc.c); math.Abs(loss-wantLoss) > tol {
				t.Errorf("loss gap %.16g, want %.16g", loss, wantLoss)
			}
			// The tolerance covers the rounding of the finite-difference
			// third derivative, about 4ε‖∇E‖|u|²/h².
			if math.Abs(field-wantField) > 1e-6*wantField {
				t.Errorf("field gap %.16g, want %.16g", field, wantField)
			}
		})
	}
	if _, _, err := TruncationGap(q, 0, []float64{0, 0, 0}, []float64{1, 1, 1}); err == nil {
		t.Error("eta = 0: no error")
	}
}

func TestTruncationGapOrder(t *testing.T) {
	// Oracle: the Taylor orders, |u|⁴ for the loss and |u|³ for the field,
	// so halving u divides the gaps by 16 and 8, on the matrix
	// factorisation (a polynomial of degree 6, where higher orders are
	// present) at GD's state late in a run.
	const eta = 0.077
	m, err := NewMatFact(3, DiagTarget(5.5, 1))
	if err != nil {
		t.Fatal(err)
	}
	c, u := cycleTestStart(t, m, cycleTestInit(m), eta, 300)
	us := make([]float64, m.Dim())
	floats.ScaleTo(us, 1.0/8, u)
	l1, f1, err := TruncationGap(m, eta, c, us)
	if err != nil {
		t.Fatal(err)
	}
	floats.ScaleTo(us, 1.0/16, u)
	l2, f2, err := TruncationGap(m, eta, c, us)
	if err != nil {
		t.Fatal(err)
	}
	if r := l1 / l2; math.Abs(r-16) > 0.2 {
		t.Errorf("loss gap ratio under halving u: %.4g, want 16", r)
	}
	if r := f1 / f2; math.Abs(r-8) > 0.1 {
		t.Errorf("field gap ratio under halving u: %.4g, want 8", r)
	}
}

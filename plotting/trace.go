package plotting

import (
	"fmt"

	"github.com/eoskit/eoskit/eos"
	"gonum.org/v1/plot"
)

// TracePlots returns the two plots everyone expects of a GD run: the loss
// against the step on a log axis, with the two-step mean, and the measured
// sharpness against the step with the 2/η line.
func TracePlots(t *eos.Trace) (loss, sharpness *plot.Plot, err error) {
	steps := make([]float64, len(t.Step))
	for i, k := range t.Step {
		steps[i] = float64(k)
	}
	loss = New("loss", "step", "E(θ_k)", true)
	if err := AddLines(loss,
		Series{Name: "loss", X: steps, Y: t.Loss},
		Series{Name: "two-step mean", X: steps, Y: t.LossMean2}); err != nil {
		return nil, nil, err
	}
	sharpness, err = SharpnessPlot(steps, t.Sharpness, t.Eta)
	return loss, sharpness, err
}

// SharpnessPlot plots measured sharpness values (NaN where not measured) as
// points, with the stability threshold 2/η.
func SharpnessPlot(steps, sharp []float64, eta float64) (*plot.Plot, error) {
	p := New("sharpness", "step", "λ_max(H)", false)
	if err := AddPoints(p, 1.2, Series{Name: "sharpness", X: steps, Y: sharp}); err != nil {
		return nil, err
	}
	if err := AddHLine(p, 2/eta, fmt.Sprintf("2/η = %.4g", 2/eta)); err != nil {
		return nil, err
	}
	return p, nil
}

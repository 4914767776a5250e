package plotting

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"github.com/eoskit/eoskit/eos"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotutil"
)

// The panels of the kinetic description (eos.RunKinetic against
// eos.RunMeanFieldGD): GD runs in the palette's colours by position, the
// kinetic run in black and dashed, as the model is in the comparison
// panels.

var kineticColor = color.NRGBA{A: 255}

func checkKinetic(kin *eos.KineticRun) error {
	if kin == nil || len(kin.T) == 0 {
		return errors.New("plotting: empty kinetic run")
	}
	return nil
}

func checkMeanFieldRuns(gds []*eos.MeanFieldRun) error {
	for i, g := range gds {
		if g == nil || len(g.Loss) == 0 {
			return fmt.Errorf("plotting: GD run %d is empty", i)
		}
	}
	return nil
}

// kineticSteps returns the steps k = T_k/η of a kinetic run.
func kineticSteps(kin *eos.KineticRun) []float64 {
	x := make([]float64, len(kin.T))
	for i, t := range kin.T {
		x[i] = t / kin.Eta
	}
	return x
}

// KineticLossPlot plots against the step, on a log axis, the two-step mean
// loss ½[E(θ_k) + E(θ_{k+1})] of mean-field GD runs (eos.RunMeanFieldGD),
// one per width, and the kinetic prediction L_sym of the run kin
// (eos.RunKinetic), dashed. (The predicted envelope [E(θ̄−u), E(θ̄+u)] of a
// wide network spans a few per cent of the loss, too thin to show on an
// axis of several decades; it is in kin.EnvLow and kin.EnvHigh.)
func KineticLossPlot(kin *eos.KineticRun, gds ...*eos.MeanFieldRun) (*plot.Plot, error) {
	if err := checkKinetic(kin); err != nil {
		return nil, err
	}
	if err := checkMeanFieldRuns(gds); err != nil {
		return nil, err
	}
	p := newPlot("two-step mean loss: GD of width N vs kinetic", "step k", "loss", true)
	for i, g := range gds {
		if err := AddLines(p, Series{Name: fmt.Sprintf("GD N=%d", g.Width), X: Index(len(g.LossMean2)), Y: g.LossMean2, Color: plotutil.Color(i)}); err != nil {
			return nil, err
		}
	}
	if err := AddLines(p, Series{Name: fmt.Sprintf("kinetic L_sym, M=%d", kin.Particles), X: kineticSteps(kin), Y: kin.LSym, Color: kineticColor, Dashed: true}); err != nil {
		return nil, err
	}
	legendRoom(p, len(gds)+1)
	return p, nil
}

// KineticWidthPlot plots the late time-averaged loss (LateLoss, the mean
// over the final LateWindow steps) against the number of neurons N of
// mean-field GD runs and against the number of particles M of kinetic runs,
// on a log axis of the width: the finite-size dependence of both systems
// and whether they agree at equal size.
func KineticWidthPlot(gds []*eos.MeanFieldRun, kins []*eos.KineticRun) (*plot.Plot, error) {
	if len(gds) == 0 || len(kins) == 0 {
		return nil, errors.New("plotting: width plot needs GD and kinetic runs")
	}
	if err := checkMeanFieldRuns(gds); err != nil {
		return nil, err
	}
	p := newPlot("late time-averaged loss against width", "width: N neurons (GD), M particles (kinetic)", "late loss", false)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: 1}
	gx, gy := make([]float64, len(gds)), make([]float64, len(gds))
	for i, g := range gds {
		gx[i], gy[i] = float64(g.Width), g.LateLoss
	}
	kx, ky := make([]float64, len(kins)), make([]float64, len(kins))
	for i, k := range kins {
		if err := checkKinetic(k); err != nil {
			return nil, err
		}
		kx[i], ky[i] = float64(k.Particles), k.LateLoss
	}
	gd := Series{Name: "GD, N neurons", X: gx, Y: gy, Color: gdMeanColor}
	kin := Series{Name: "kinetic, M particles", X: kx, Y: ky, Color: modelColor, Dashed: true}
	if err := AddLines(p, gd, kin); err != nil {
		return nil, err
	}
	gd.Name, kin.Name = "", ""
	if err := AddPoints(p, 3, gd, kin); err != nil {
		return nil, err
	}
	legendRoom(p, 2)
	return p, nil
}

// KineticSharpnessPlot plots the mean-field sharpness N·λ_max(∇²E) measured
// along mean-field GD runs at their iterates, one colour per width, and
// M·λ_max along the kinetic run at its centres, with the threshold 2/η.
// The runs must have measured it (EigEvery > 0).
func KineticSharpnessPlot(kin *eos.KineticRun, gds ...*eos.MeanFieldRun) (*plot.Plot, error) {
	if err := checkKinetic(kin); err != nil {
		return nil, err
	}
	if err := checkMeanFieldRuns(gds); err != nil {
		return nil, err
	}
	p := newPlot("mean-field sharpness", "step k", "N·λ_max(H)", false)
	for i, g := range gds {
		if err := AddPoints(p, 2, Series{Name: fmt.Sprintf("GD N=%d, at θ_k", g.Width), X: Index(len(g.Sharpness)), Y: g.Sharpness, Color: plotutil.Color(i)}); err != nil {
			return nil, err
		}
	}
	if err := AddPoints(p, 2.5, Series{Name: fmt.Sprintf("kinetic M=%d, at the centres", kin.Particles), X: kineticSteps(kin), Y: kin.Sharpness, Color: kineticColor}); err != nil {
		return nil, err
	}
	if err := AddHLine(p, 2/kin.Eta, fmt.Sprintf("2/η = %.4g", 2/kin.Eta)); err != nil {
		return nil, err
	}
	legendRoom(p, len(gds)+2)
	return p, nil
}

// KineticFreeEnergyPlot plots along a kinetic run, against the time t = kη
// on a log axis, the macroscopic free energy F[ρ] = L_sym − (1/η)∫|u|² dρ
// and the predicted two-step mean loss L_sym it lies below. Entries before
// the end of the warm-up come from the GD iterates of the particles. Values
// of F that are not positive cannot be drawn on the log axis and are left
// out.
func KineticFreeEnergyPlot(kin *eos.KineticRun) (*plot.Plot, error) {
	if err := checkKinetic(kin); err != nil {
		return nil, err
	}
	p := newPlot(fmt.Sprintf("free energy along the kinetic flow, M=%d", kin.Particles), "t = kη", "L_sym, F", true)
	if err := AddLines(p,
		Series{Name: "L_sym", X: kin.T, Y: kin.LSym, Color: kineticColor},
		Series{Name: "F = L_sym − ∫|u|²dρ/η", X: kin.T, Y: kin.Free, Color: accentColor}); err != nil {
		return nil, err
	}
	legendRoom(p, 2)
	return p, nil
}

// EnergyRatesPlots plots the energy identity of a kinetic run step by step
// (eos.KineticEnergyRates), against the time t on log axes: rates shows the
// dissipation D = ∫|V_θ|² dρ and the injection I = ∫|V_u|² dρ as lines over
// the measured rate of change of F as points, split by its sign (F falls
// where the dissipation is the larger, rises where the injection is), so
// that the points lie on D where D ≫ I and on I where I ≫ D; residual shows
// the relative violation of the identity in each step, |dF/dt + D − I| /
// (D + I).
func EnergyRatesPlots(e *eos.EnergyRates) (rates, residual *plot.Plot, err error) {
	if e == nil || len(e.T) == 0 {
		return nil, nil, errors.New("plotting: no energy rates")
	}
	rates = newPlot("energy identity: dF/dt = −∫|V_θ|²dρ + ∫|V_u|²dρ", "t = kη", "rate", true)
	falls := make([]float64, len(e.T))
	rises := make([]float64, len(e.T))
	for i, r := range e.FreeRate {
		// Each series keeps the steps of its sign; the others are NaN, a gap.
		falls[i], rises[i] = math.NaN(), math.NaN()
		switch {
		case r < 0:
			falls[i] = -r
		case r > 0:
			rises[i] = r
		}
	}
	// The points first, so that the lines they should lie on stay visible.
	if err := AddPoints(rates, 1,
		Series{Name: "−dF/dt where F falls", X: e.T, Y: falls, Color: gdMeanColor},
		Series{Name: "dF/dt where F rises", X: e.T, Y: rises, Color: color.NRGBA{R: 200, A: 255}}); err != nil {
		return nil, nil, err
	}
	if err := AddLines(rates,
		Series{Name: "dissipation D = ∫|V_θ|²dρ", X: e.T, Y: e.Dissipation, Color: modelColor},
		Series{Name: "injection I = ∫|V_u|²dρ", X: e.T, Y: e.Injection, Color: accentColor}); err != nil {
		return nil, nil, err
	}
	legendRoom(rates, 4)
	residual = newPlot("violation of the identity per step", "t = kη", "rel. residual", true)
	if err := AddLines(residual, Series{Name: "|dF/dt + D − I| / (D + I)", X: e.T, Y: e.Residual, Color: gdMeanColor}); err != nil {
		return nil, nil, err
	}
	legendRoom(residual, 1)
	return rates, residual, nil
}

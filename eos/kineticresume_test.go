package eos

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// throughFile passes a checkpoint through its file encoding, as a resumed
// command reads it.
func throughFile(t *testing.T, ck *Checkpoint) *Checkpoint {
	t.Helper()
	b, err := ck.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var c Checkpoint
	if err := c.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	return &c
}

// stopAt returns a Checkpoint function that saves the checkpoint before
// step stop into *dst and stops the run there.
func stopBefore(t *testing.T, stop int, dst **Checkpoint) func(int, func() (*Checkpoint, error)) error {
	return func(k int, save func() (*Checkpoint, error)) error {
		if k != stop {
			return nil
		}
		ck, err := save()
		if err != nil {
			return err
		}
		*dst = throughFile(t, ck)
		return errStopHere
	}
}

// TestKineticResume stops kinetic simulations at a checkpoint and resumes
// them; the record, the final particles and the derived numbers must be
// those of the simulation that was not stopped, bit for bit (the oracle).
// The cases exercise the eigensolver's warm start and the noise floor (a
// start at the floor, whose rescalings after the stop add to the floor's
// work; its random source is drawn from only while u = 0, at the start).
func TestKineticResume(t *testing.T) {
	m := regimeNet(t, 16)
	for _, tc := range []struct {
		name string
		set  KineticSettings
		stop []int
	}{
		{"warm-up start, sharpness", KineticSettings{Steps: 60, Seed: 3, EigEvery: 7}, []int{21, 40}},
		{"floor start", KineticSettings{Steps: 60, Seed: 2, Warmup: -1, NoiseFloor: 1e-3}, []int{1, 33}},
	} {
		want, err := RunKinetic(m, regimeEta, &tc.set)
		if err != nil {
			t.Fatal(err)
		}
		for _, stop := range tc.stop {
			t.Run(fmt.Sprintf("%s stop %d", tc.name, stop), func(t *testing.T) {
				set := tc.set
				var ck *Checkpoint
				set.Checkpoint = stopBefore(t, stop, &ck)
				part, err := RunKinetic(m, regimeEta, &set)
				if !errors.Is(err, errStopHere) || ck == nil {
					t.Fatalf("error %v, checkpoint %v", err, ck != nil)
				}
				if len(part.T) != stop {
					t.Errorf("stopped run recorded %d steps, want %d", len(part.T), stop)
				}
				set = tc.set
				set.Resume = ck
				got, err := RunKinetic(m, regimeEta, &set)
				if err != nil {
					t.Fatal(err)
				}
				gs, ws := kineticSeries(got), kineticSeries(want)
				for i := range gs {
					if !sameBits(*gs[i], *ws[i]) {
						t.Errorf("series %d differs from the uninterrupted run", i)
					}
				}
				if !sameBits(got.Theta, want.Theta) || !sameBits(got.U, want.U) || !sameBits(got.Theta0, want.Theta0) {
					t.Error("particles differ from the uninterrupted run")
				}
				if got.LateLoss != want.LateLoss || got.EnergyIdentityRelErr != want.EnergyIdentityRelErr || got.Stats != want.Stats {
					t.Errorf("late loss %v, energy %v, stats %+v; uninterrupted %v, %v, %+v",
						got.LateLoss, got.EnergyIdentityRelErr, got.Stats, want.LateLoss, want.EnergyIdentityRelErr, want.Stats)
				}
			})
		}
	}
}

// TestMeanFieldGDResume does the same for mean-field GD.
func TestMeanFieldGDResume(t *testing.T) {
	m := regimeNet(t, 16)
	set := MeanFieldGDSettings{Steps: 80, Seed: 5, EigEvery: 3}
	want, err := RunMeanFieldGD(m, regimeEta, &set)
	if err != nil {
		t.Fatal(err)
	}
	for _, stop := range []int{1, 40, 79} {
		s := set
		var ck *Checkpoint
		s.Checkpoint = stopBefore(t, stop, &ck)
		if _, err := RunMeanFieldGD(m, regimeEta, &s); !errors.Is(err, errStopHere) || ck == nil {
			t.Fatalf("stop %d: error %v, checkpoint %v", stop, err, ck != nil)
		}
		s = set
		s.Resume = ck
		got, err := RunMeanFieldGD(m, regimeEta, &s)
		if err != nil {
			t.Fatal(err)
		}
		if !sameBits(got.Loss, want.Loss) || !sameBits(got.Sharpness, want.Sharpness) || !sameBits(got.LossMean2, want.LossMean2) ||
			!sameBits(got.Theta, want.Theta) || !sameBits(got.U, want.U) || !sameBits(got.Theta0, want.Theta0) || got.LateLoss != want.LateLoss {
			t.Errorf("stop %d: resumed run differs from the uninterrupted one", stop)
		}
	}
}

// TestKineticResumeRefused resumes from checkpoints that do not fit.
func TestKineticResumeRefused(t *testing.T) {
	m := regimeNet(t, 16)
	var kinCk, gdCk *Checkpoint
	set := KineticSettings{Steps: 40, Seed: 1}
	set.Checkpoint = stopBefore(t, 30, &kinCk)
	RunKinetic(m, regimeEta, &set)
	gset := MeanFieldGDSettings{Steps: 40, Seed: 1}
	gset.Checkpoint = stopBefore(t, 30, &gdCk)
	RunMeanFieldGD(m, regimeEta, &gset)
	if kinCk == nil || gdCk == nil {
		t.Fatal("no checkpoints")
	}
	wide := regimeNet(t, 32)
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"kinetic: other width", func() error {
			_, err := RunKinetic(wide, regimeEta, &KineticSettings{Steps: 40, Resume: kinCk})
			return err
		}, "of 16 particles"},
		{"kinetic: other eta", func() error {
			_, err := RunKinetic(m, 0.7, &KineticSettings{Steps: 40, Resume: kinCk})
			return err
		}, "η = 0.8"},
		{"kinetic: shorter run", func() error {
			_, err := RunKinetic(m, regimeEta, &KineticSettings{Steps: 25, Resume: kinCk})
			return err
		}, "out of range"},
		{"kinetic: sharpness now measured", func() error {
			_, err := RunKinetic(m, regimeEta, &KineticSettings{Steps: 40, EigEvery: 2, Resume: kinCk})
			return err
		}, "no eigensolver state"},
		{"kinetic: a GD checkpoint", func() error {
			_, err := RunKinetic(m, regimeEta, &KineticSettings{Steps: 40, Resume: gdCk})
			return err
		}, "not of a kinetic run"},
		{"GD: a kinetic checkpoint", func() error {
			_, err := RunMeanFieldGD(m, regimeEta, &MeanFieldGDSettings{Steps: 40, Resume: kinCk})
			return err
		}, "not of a mean-field GD run"},
		{"GD: other length", func() error {
			_, err := RunMeanFieldGD(m, regimeEta, &MeanFieldGDSettings{Steps: 50, Resume: gdCk})
			return err
		}, "40 steps"},
		{"GD: other width", func() error {
			_, err := RunMeanFieldGD(wide, regimeEta, &MeanFieldGDSettings{Steps: 40, Resume: gdCk})
			return err
		}, "width 16"},
	} {
		if err := tc.run(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestMeanFieldRunEncoding(t *testing.T) {
	run, err := RunMeanFieldGD(regimeNet(t, 8), regimeEta, &MeanFieldGDSettings{Steps: 30, EigEvery: 4})
	if err != nil {
		t.Fatal(err)
	}
	b := MarshalMeanFieldRun(run)
	got, err := UnmarshalMeanFieldRun(b)
	if err != nil {
		t.Fatal(err)
	}
	// Oracle: the encoded record, field by field and bit by bit.
	if got.Width != run.Width || got.Eta != run.Eta || got.P != run.P || got.LateWindow != run.LateWindow || got.LateLoss != run.LateLoss ||
		!sameBits(got.Loss, run.Loss) || !sameBits(got.LossMean2, run.LossMean2) || !sameBits(got.Sharpness, run.Sharpness) ||
		!sameBits(got.Theta0, run.Theta0) || !sameBits(got.Final, run.Final) || !sameBits(got.Theta, run.Theta) || !sameBits(got.U, run.U) {
		t.Error("decoded record differs from the encoded one")
	}
	for n := range len(b) {
		if _, err := UnmarshalMeanFieldRun(b[:n]); err == nil {
			t.Fatalf("record truncated to %d of %d bytes accepted", n, len(b))
		}
	}
}

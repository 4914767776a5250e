package eos

import "math"

// Onset returns the first step of a GD run at which the measured sharpness
// reached 2/η from below, where progressive sharpening ends and the Edge of
// Stability begins, or −1 when it did not. Steps where the sharpness was
// not measured (NaN) are skipped, so the step returned is late by less than
// GDSettings.EigEvery.
//
// Networks often start sharper than 2/η and lose the excess in their first
// steps, a catapult that is not the Edge of Stability; a crossing therefore
// counts only after a measurement below 2/η. It panics if the trace's
// Step and Sharpness differ in length or its Eta is not positive.
func Onset(t *Trace) int {
	checkLen("Trace.Sharpness", len(t.Sharpness), len(t.Step))
	if !(t.Eta > 0) {
		panic("eos: Onset of a trace without a positive Eta")
	}
	edge := 2 / t.Eta
	below := false
	for i, s := range t.Sharpness {
		switch {
		case math.IsNaN(s):
		case s < edge:
			below = true
		case below:
			return t.Step[i]
		}
	}
	return -1
}

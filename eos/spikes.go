package eos

import (
	"math"
	"slices"
)

// Spikes returns the indices of the spikes of a positive series, ascending:
// the points i, not at either end, that are the largest value of their
// neighbourhood [i−window, i+window] (the first of equal values), hence local
// maxima, and exceed its median by at least the fraction rise,
//
//	series[i] ≥ (1 + rise) · median(series[i−window … i+window]),
//
// the neighbourhood clipped to the series. NaN values are ignored: they are
// never spikes and are left out of medians. Two spikes are at least window+1
// apart, so window should be below half the spacing of the spikes sought.
// Spikes panics if window < 1.
func Spikes(series []float64, rise float64, window int) []int {
	if window < 1 {
		panic("eos: spike window must be positive")
	}
	var idx []int
	buf := make([]float64, 0, 2*window+1)
	n := len(series)
	for i := 1; i < n-1; i++ {
		v := series[i]
		if math.IsNaN(v) {
			continue
		}
		lo, hi := max(0, i-window), min(n-1, i+window)
		top := true
		buf = buf[:0]
		for j := lo; j <= hi; j++ {
			w := series[j]
			if math.IsNaN(w) {
				continue
			}
			if (j < i && w >= v) || (j > i && w > v) {
				top = false
				break
			}
			buf = append(buf, w)
		}
		if top && v >= (1+rise)*median(buf) {
			idx = append(idx, i)
		}
	}
	return idx
}

// median returns the median of x, the mean of the two middle values for an
// even length, sorting x in place.
func median(x []float64) float64 {
	slices.Sort(x)
	m := len(x) / 2
	if len(x)%2 == 1 {
		return x[m]
	}
	return (x[m-1] + x[m]) / 2
}

// MatchSpikes returns how many spikes of ref have a distinct spike of got
// within tol indices, pairing them greedily in order, which is the largest
// possible number of such pairs when both lists are ascending (as Spikes
// returns them). It panics if tol is negative.
func MatchSpikes(ref, got []int, tol int) (matched int) {
	if tol < 0 {
		panic("eos: negative spike tolerance")
	}
	j := 0
	for _, r := range ref {
		for j < len(got) && got[j] < r-tol {
			j++
		}
		if j < len(got) && got[j] <= r+tol {
			matched++
			j++
		}
	}
	return matched
}

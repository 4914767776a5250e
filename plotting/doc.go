// Package plotting draws the figures eoskit's notebooks and commands show,
// with gonum/plot.
//
// Helpers take the caller's *plot.Plot and add to it, returning an error, in
// the manner of gonum/plot's plotutil: there is no wrapper type. Traces have
// gaps (the sharpness is measured every few steps; a diverged run ends in
// NaN), and log axes reject values ≤ 0, so every helper drops the points a
// plot cannot show and splits lines at the gaps instead of failing.
//
// Show renders a plot, or a grid of panels, to PNG and displays it inline
// when running inside a GoNB notebook; outside one it does nothing, so the
// same code runs headless.
package plotting

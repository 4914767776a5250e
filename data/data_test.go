package data

import (
	"slices"
	"testing"
)

func TestNames(t *testing.T) {
	want := []string{"mnist", "cifar10", "synthetic", "teacher"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	// Every name Load accepts is listed: the generated ones load anywhere.
	for _, name := range []string{"synthetic", "teacher"} {
		set, err := Load(name, &Options{N: 10})
		if err != nil || set.Name != name {
			t.Errorf("Load(%q): %v", name, err)
		}
	}
}

func TestNormalizationString(t *testing.T) {
	for n, want := range map[Normalization]string{
		PerFeature:        "per-feature",
		PerChannel:        "per-channel",
		None:              "none",
		Normalization(42): "Normalization(42)",
	} {
		if got := n.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(n), got, want)
		}
	}
}

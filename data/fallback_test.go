package data

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestLoadOr(t *testing.T) {
	// An empty directory holds no CIFAR-10 batch files, so cifar10 is absent
	// there whatever $EOS_DATA, ./data or ~/data hold.
	empty := t.TempDir()
	for _, tc := range []struct {
		name, preferred, fallback string
		opt                       *Options
		wantSet                   string // "" when an error is expected
		wantNote                  []string
	}{
		{
			name:      "preferred present",
			preferred: "synthetic", fallback: "mnist",
			opt:     &Options{N: 20, Seed: 3},
			wantSet: "synthetic",
		},
		{
			name:      "preferred absent",
			preferred: "cifar10", fallback: "synthetic",
			opt:      &Options{N: 20, DataDir: empty, Seed: 3},
			wantSet:  "synthetic",
			wantNote: []string{"CIFAR-10 train split not found", "synthetic ran in its place"},
		},
		{
			// N = 7 is not a multiple of the 10 classes: an error of the
			// caller's, which the fallback would repeat, so none is tried.
			name:      "bad option",
			preferred: "synthetic", fallback: "mnist",
			opt: &Options{N: 7},
		},
		{
			name:      "fallback fails too",
			preferred: "cifar10", fallback: "nonesuch",
			opt: &Options{N: 20, DataDir: empty},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set, note, err := LoadOr(tc.preferred, tc.fallback, tc.opt)
			if tc.wantSet == "" {
				if err == nil {
					t.Fatalf("LoadOr returned %v, want an error", set.Name)
				}
				if set != nil || note != "" {
					t.Errorf("LoadOr returned a set or note with the error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if set.Name != tc.wantSet {
				t.Errorf("set %q, want %q", set.Name, tc.wantSet)
			}
			if len(tc.wantNote) == 0 && note != "" {
				t.Errorf("note %q, want none", note)
			}
			for _, w := range tc.wantNote {
				if !strings.Contains(note, w) {
					t.Errorf("note %q does not say %q", note, w)
				}
			}
			// The fallback keeps the caller's options: the same N.
			if n, _ := set.X.Dims(); n != tc.opt.N {
				t.Errorf("%d examples, want %d", n, tc.opt.N)
			}
		})
	}
}

// TestLoadOrKeepsOtherErrors checks that a fault in the preferred set that is
// not its absence is reported, not papered over by the fallback.
func TestLoadOrKeepsOtherErrors(t *testing.T) {
	_, _, err := LoadOr("cifar10", "synthetic", &Options{N: -10})
	if err == nil {
		t.Fatal("no error for N = -10")
	}
	if errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v reads as a missing file", err)
	}
}

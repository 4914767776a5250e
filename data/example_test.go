package data_test

import (
	"fmt"

	"github.com/eoskit/eoskit/data"
)

func ExampleLoad() {
	set, err := data.Load("synthetic", &data.Options{N: 100, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	n, d := set.X.Dims()
	_, k := set.Y.Dims()
	fmt.Printf("%s: X %d×%d, Y %d×%d, %d classes\n", set.Name, n, d, n, k, set.Classes)
	// Output:
	// synthetic: X 100×5, Y 100×10, 10 classes
}

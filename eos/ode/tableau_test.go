package ode

import (
	"math"
	"testing"
)

// rootedTree is a rooted tree of Butcher's theory, stored as the indices of
// its root's subtrees in a list of all smaller trees.
type rootedTree struct {
	order int
	gamma float64 // density γ(t) = |t| Π γ(t_k)
	kids  []int
}

// rootedTrees enumerates every rooted tree with at most maxOrder vertices,
// ordered by size. A tree of order n is a root above a multiset of trees
// whose orders sum to n−1; multisets are generated as non-decreasing index
// sequences so each tree appears once.
func rootedTrees(maxOrder int) []rootedTree {
	trees := []rootedTree{{order: 1, gamma: 1}}
	for n := 2; n <= maxOrder; n++ {
		smaller := len(trees)
		var gen func(start, remaining int, kids []int)
		gen = func(start, remaining int, kids []int) {
			if remaining == 0 {
				g := float64(n)
				for _, k := range kids {
					g *= trees[k].gamma
				}
				trees = append(trees, rootedTree{order: n, gamma: g, kids: append([]int(nil), kids...)})
				return
			}
			for i := start; i < smaller; i++ {
				if trees[i].order <= remaining {
					gen(i, remaining-trees[i].order, append(kids, i))
				}
			}
		}
		gen(0, n-1, nil)
	}
	return trees
}

// orderResiduals returns, for each tree, Σ_i w_i Φ_t(i) − 1/γ(t), where the
// stage weights are Φ_•(i) = 1 and Φ_[t1…tm](i) = Π_k Σ_j a_ij Φ_tk(j). A
// method with weights w has order p exactly when the residuals of all trees
// with at most p vertices vanish (Butcher's order conditions).
func orderResiduals(m *Tableau, w []float64, trees []rootedTree) []float64 {
	s := len(w)
	phi := make([][]float64, len(trees))
	res := make([]float64, len(trees))
	for ti, t := range trees {
		phi[ti] = make([]float64, s)
		for i := range s {
			p := 1.0
			for _, k := range t.kids {
				var sum float64
				for j, a := range m.A[i] {
					sum += a * phi[k][j]
				}
				p *= sum
			}
			phi[ti][i] = p
		}
		var sum float64
		for i, wi := range w {
			sum += wi * phi[ti][i]
		}
		res[ti] = sum - 1/t.gamma
	}
	return res
}

func TestRootedTreeCount(t *testing.T) {
	t.Parallel()
	// Oracle: the number of rooted trees with n vertices, OEIS A000081.
	want := []int{1, 1, 2, 4, 9, 20}
	got := make([]int, len(want))
	for _, tr := range rootedTrees(len(want)) {
		got[tr.order-1]++
	}
	for n := range want {
		if got[n] != want[n] {
			t.Errorf("order %d: %d trees, want %d", n+1, got[n], want[n])
		}
	}
}

func TestTableauOrderConditions(t *testing.T) {
	t.Parallel()
	const maxOrder = 6
	trees := rootedTrees(maxOrder)
	for _, m := range []*Tableau{Euler, Midpoint, RK4, DormandPrince54} {
		if err := m.check(); err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		// Row sums of A are the nodes: exact in rational arithmetic, so
		// only rounding of the decimal coefficients is allowed for.
		for i, row := range m.A {
			var sum float64
			for _, a := range row {
				sum += a
			}
			if math.Abs(sum-m.C[i]) > 1e-15 {
				t.Errorf("%s: row %d of A sums to %v, C[%d] = %v", m.Name, i, sum, i, m.C[i])
			}
		}
		weights := []struct {
			name  string
			w     []float64
			order int
		}{{"B", m.B, m.Order}}
		if m.BHat != nil {
			weights = append(weights, struct {
				name  string
				w     []float64
				order int
			}{"BHat", m.BHat, m.EmbeddedOrder})
		}
		for _, wc := range weights {
			res := orderResiduals(m, wc.w, trees)
			// Oracle: Butcher's conditions Σ b Φ_t = 1/γ(t) for every
			// tree up to the claimed order (they include ΣB = 1,
			// ΣBC = 1/2, ΣBC² = 1/3, ΣBAC = 1/6 and the 8 + 9 trees of
			// orders 4 and 5) ...
			var violated bool
			for ti, tr := range trees {
				if tr.order <= wc.order && math.Abs(res[ti]) > 1e-14 {
					t.Errorf("%s.%s: order condition of tree %d (order %d, γ = %v) off by %.3g", m.Name, wc.name, ti, tr.order, tr.gamma, res[ti])
				}
				if tr.order == wc.order+1 && math.Abs(res[ti]) > 1e-6 {
					violated = true
				}
			}
			// ... and at least one violated at the next order, so the
			// claimed order is the exact one.
			if wc.order < maxOrder && !violated {
				t.Errorf("%s.%s: all conditions of order %d hold; Order = %d understates it", m.Name, wc.name, wc.order+1, wc.order)
			}
		}
	}
}

func TestTableauCheckRejectsMalformed(t *testing.T) {
	t.Parallel()
	for _, test := range []struct {
		name string
		m    Tableau
	}{
		{"no stages", Tableau{Name: "x", Order: 1}},
		{"short C", Tableau{Name: "x", A: [][]float64{{}, {1}}, B: []float64{0.5, 0.5}, C: []float64{0}, Order: 2}},
		{"implicit row", Tableau{Name: "x", A: [][]float64{{1}}, B: []float64{1}, C: []float64{1}, Order: 1}},
		{"C not row sum", Tableau{Name: "x", A: [][]float64{{}, {1}}, B: []float64{0.5, 0.5}, C: []float64{0, 0.5}, Order: 2}},
		{"bad BHat length", Tableau{Name: "x", A: [][]float64{{}}, B: []float64{1}, BHat: []float64{1, 0}, C: []float64{0}, Order: 1, EmbeddedOrder: 1}},
		{"zero order", Tableau{Name: "x", A: [][]float64{{}}, B: []float64{1}, C: []float64{0}}},
		{"false FSAL", Tableau{Name: "x", A: [][]float64{{}, {1}}, B: []float64{0.5, 0.5}, C: []float64{0, 1}, Order: 2, FSAL: true}},
	} {
		if err := test.m.check(); err == nil {
			t.Errorf("%s: no error", test.name)
		}
	}
}

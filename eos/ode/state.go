package ode

import (
	"encoding/binary"
	"fmt"
	"math"
)

// solverStateTag and solverStateVersion identify the encoding of
// Solver.MarshalBinary.
const (
	solverStateTag     = "ode.Solver"
	solverStateVersion = 1
)

// MarshalBinary encodes what a Solver carries from one Integrate call to the
// next: the adaptive controller's memory (the next step to try, the previous
// error, whether the last attempt was rejected) and the statistics. A Solver
// made with the same function, dimension and settings and given this state
// by UnmarshalBinary continues as this one would, to the last bit, so a
// long integration can be checkpointed and resumed. The method's name and
// the dimension are recorded, so the state is not restored into a solver of
// another method or size.
func (s *Solver) MarshalBinary() ([]byte, error) {
	le := binary.LittleEndian
	b := le.AppendUint64(nil, uint64(len(solverStateTag)))
	b = append(b, solverStateTag...)
	b = le.AppendUint32(b, solverStateVersion)
	b = le.AppendUint64(b, uint64(len(s.m.Name)))
	b = append(b, s.m.Name...)
	for _, v := range [...]int{s.n, s.stats.Steps, s.stats.Accepted, s.stats.Rejected, s.stats.Evals} {
		b = le.AppendUint64(b, uint64(v))
	}
	b = le.AppendUint64(b, math.Float64bits(s.h))
	b = le.AppendUint64(b, math.Float64bits(s.errPrev))
	var rej byte
	if s.rejected {
		rej = 1
	}
	return append(b, rej), nil
}

// UnmarshalBinary restores a state encoded by MarshalBinary. It returns an
// error, and leaves s unchanged, when b is not such a state or is that of a
// solver of another method or dimension.
func (s *Solver) UnmarshalBinary(b []byte) error {
	le := binary.LittleEndian
	bad := fmt.Errorf("ode: not a Solver state of version %d", solverStateVersion)
	str := func() (string, bool) {
		if len(b) < 8 {
			return "", false
		}
		n := le.Uint64(b)
		if n > uint64(len(b)-8) {
			return "", false
		}
		v := string(b[8 : 8+n])
		b = b[8+n:]
		return v, true
	}
	tag, ok := str()
	if !ok || tag != solverStateTag || len(b) < 4 || le.Uint32(b) != solverStateVersion {
		return bad
	}
	b = b[4:]
	name, ok := str()
	if !ok || len(b) != 5*8+2*8+1 {
		return bad
	}
	var v [5]int
	for i := range v {
		u := le.Uint64(b[8*i:])
		if u > math.MaxInt32*uint64(math.MaxInt32) {
			return bad
		}
		v[i] = int(u)
	}
	h := math.Float64frombits(le.Uint64(b[40:]))
	errPrev := math.Float64frombits(le.Uint64(b[48:]))
	rej := b[56]
	switch {
	case name != s.m.Name || v[0] != s.n:
		return fmt.Errorf("ode: Solver state is for method %q in dimension %d, this Solver is %q in dimension %d", name, v[0], s.m.Name, s.n)
	case rej > 1 || !(h >= 0) || math.IsInf(h, 0) || !(errPrev >= 0) || math.IsInf(errPrev, 0):
		return bad
	}
	s.stats = Stats{Steps: v[1], Accepted: v[2], Rejected: v[3], Evals: v[4]}
	s.h, s.errPrev, s.rejected = h, errPrev, rej == 1
	return nil
}

package eos

import (
	"fmt"
	"math"
)

// flowStateVersion is the version of the encoding of a flow's
// MarshalBinary.
const flowStateVersion = 1

// MarshalBinary encodes the state of the flow: its point, its time, its
// work counts, the last sharpness measurement, and the state of its
// integrator and eigensolver. A flow made by the same constructor with the
// same problem, step size and settings and given this state by
// UnmarshalBinary advances and predicts as this one would, to the last bit:
// a long comparison can be checkpointed and resumed (Compare with
// CompareSettings.Resume).
func (c *flowCore) MarshalBinary() ([]byte, error) {
	var e encoder
	if err := c.marshal(&e); err != nil {
		return nil, err
	}
	return e.b, nil
}

func (c *flowCore) marshal(e *encoder) error {
	solver, err := c.solver.MarshalBinary()
	if err != nil {
		return err
	}
	e.str("flow")
	e.u32(flowStateVersion)
	e.str(c.name)
	e.floats(c.y)
	e.f64(c.t)
	e.boolean(c.ready)
	e.int(c.eigK)
	e.f64(c.eigT)
	e.floats(c.eig)
	e.int(c.cost.Grads)
	e.int(c.cost.HVPs)
	e.int(c.cost.Losses)
	e.bytes(solver)
	return marshalLanczos(e, c.lz)
}

// marshalLanczos appends the state of lz, or an empty one when lz is nil.
func marshalLanczos(e *encoder, lz *Lanczos) error {
	if lz == nil {
		e.bytes(nil)
		return nil
	}
	b, err := lz.MarshalBinary()
	if err != nil {
		return err
	}
	e.bytes(b)
	return nil
}

// unmarshalLanczos restores into lz the state read from d, which must be
// empty exactly when lz is nil.
func unmarshalLanczos(d *decoder, lz *Lanczos, what string) error {
	b := d.bytes()
	if d.err != nil {
		return nil // reported by finish
	}
	return restoreEigensolver(lz, b, what)
}

// UnmarshalBinary restores a state encoded by MarshalBinary. It returns an
// error, and leaves the flow unchanged, when b is not the state of a flow
// of the same kind, dimension and settings.
func (c *flowCore) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	return c.unmarshal(&d, nil)
}

// unmarshal reads a flow state, the whole of d; more, if not nil, reads
// what follows the core's state and is applied, like the core's, only if
// everything decodes and matches.
func (c *flowCore) unmarshal(d *decoder, more func(d *decoder) (apply func(), err error)) error {
	if tag, v := d.str(), d.u32(); d.err == nil && (tag != "flow" || v != flowStateVersion) {
		return fmt.Errorf("eos: not a flow state of version %d (%q version %d)", flowStateVersion, tag, v)
	}
	name := d.str()
	y := d.floats()
	t := d.f64()
	ready := d.boolean()
	eigK, eigT := d.int(), d.f64()
	eig := d.floats()
	cost := FlowCost{Grads: d.int(), HVPs: d.int(), Losses: d.int()}
	solver := d.bytes()
	if d.err != nil {
		return fmt.Errorf("eos: %s flow state: %v", c.name, d.err)
	}
	switch {
	case name != c.name:
		return fmt.Errorf("eos: state of a %s flow, not of a %s flow", name, c.name)
	case len(y) != len(c.y):
		return fmt.Errorf("eos: %s flow state has %d numbers, this flow %d (another problem?)", c.name, len(y), len(c.y))
	case len(eig) != len(c.eig):
		return fmt.Errorf("eos: %s flow state measures %d eigenvalues, this flow %d (settings differ)", c.name, len(eig), len(c.eig))
	case !(t >= 0) || math.IsInf(t, 0) || eigK < -1 || cost.Grads < 0 || cost.HVPs < 0 || cost.Losses < 0:
		return fmt.Errorf("eos: %s flow state out of range (time %g, counts %+v)", c.name, t, cost)
	}
	// Check everything before changing anything: a refused state leaves
	// the flow as it was. The solver and eigensolvers are restored into
	// copies of their states taken first, put back on failure.
	oldSolver, err := c.solver.MarshalBinary()
	if err != nil {
		return err
	}
	if err := c.solver.UnmarshalBinary(solver); err != nil {
		return fmt.Errorf("eos: %s flow state: %w", c.name, err)
	}
	var oldLz []byte
	if c.lz != nil {
		if oldLz, err = c.lz.MarshalBinary(); err != nil {
			return err
		}
	}
	rollback := func() {
		c.solver.UnmarshalBinary(oldSolver)
		if oldLz != nil {
			c.lz.UnmarshalBinary(oldLz)
		}
	}
	if err := unmarshalLanczos(d, c.lz, c.name+" flow state"); err != nil {
		rollback()
		return err
	}
	var apply func()
	if more != nil {
		if apply, err = more(d); err != nil {
			rollback()
			return err
		}
	}
	if err := d.finish(c.name + " flow state"); err != nil {
		rollback()
		return err
	}
	copy(c.y, y)
	c.t, c.ready, c.eigK, c.eigT, c.cost = t, ready, eigK, eigT, cost
	copy(c.eig, eig)
	if apply != nil {
		apply()
	}
	return nil
}

// MarshalBinary encodes the state of the central flow: that of every flow
// (see FreeEnergyFlow.MarshalBinary) and the warm start of the eigensolver
// that tracks its top eigenpairs.
func (c *CentralFlow) MarshalBinary() ([]byte, error) {
	var e encoder
	if err := c.flowCore.marshal(&e); err != nil {
		return nil, err
	}
	if err := marshalLanczos(&e, c.lz); err != nil {
		return nil, err
	}
	return e.b, nil
}

// UnmarshalBinary restores a state encoded by MarshalBinary; see
// FreeEnergyFlow.UnmarshalBinary.
func (c *CentralFlow) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	err := c.flowCore.unmarshal(&d, func(d *decoder) (func(), error) {
		b := d.bytes()
		if d.err != nil {
			return nil, nil
		}
		// Decode into a scratch copy first, so that a refusal changes
		// nothing.
		old, err := c.lz.MarshalBinary()
		if err != nil {
			return nil, err
		}
		if err := c.lz.UnmarshalBinary(b); err != nil {
			return nil, err
		}
		restored, _ := c.lz.MarshalBinary()
		c.lz.UnmarshalBinary(old)
		return func() { c.lz.UnmarshalBinary(restored) }, nil
	})
	return err
}

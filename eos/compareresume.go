package eos

import (
	"encoding"
	"fmt"
	"math"
	"slices"
)

// The checkpoint of a comparison (kind "compare") holds GD's state and its
// eigensolver's, as a GD checkpoint does, and besides them the observer that
// drives the flow: the last three iterates, their losses and sharpnesses,
// the flow time, the rows so far (flattened, compareRowLen numbers a row),
// and the flow's own state in the blob "flow".
const (
	compareKind       = "compare"
	compareRowLen     = 12
	scalarFlowTime    = "flow_time"
	scalarCompareFrom = "start"
	scalarCompareLast = "last"
	blobFlow          = "flow"
)

// compareCheckpointer is GD's Checkpointer inside Compare: it hands the
// caller's CompareSettings.Checkpoint a way to save the whole comparison.
type compareCheckpointer struct {
	obs *compareObserver
	lz  *Lanczos // GD's eigensolver, nil when GD measures no sharpness
	fn  func(k int, save func() (*Checkpoint, error)) error

	stopped bool // fn returned an error
}

func (c *compareCheckpointer) Checkpoint(s *GDState) error {
	err := c.fn(s.K, func() (*Checkpoint, error) { return c.save(s) })
	c.stopped = err != nil
	return err
}

func (c *compareCheckpointer) save(s *GDState) (*Checkpoint, error) {
	o := c.obs
	m, ok := o.flow.(encoding.BinaryMarshaler)
	if !ok {
		return nil, fmt.Errorf("eos: the %s flow (%T) cannot be checkpointed: it has no MarshalBinary", o.flow.Name(), o.flow)
	}
	flow, err := m.MarshalBinary()
	if err != nil {
		return nil, err
	}
	ck, err := NewGDCheckpoint(s, c.lz, nil)
	if err != nil {
		return nil, err
	}
	ck.Kind = compareKind
	rows := make([]float64, 0, compareRowLen*len(o.cmp.Rows))
	for _, r := range o.cmp.Rows {
		m := r.Model
		rows = append(rows, float64(r.Step), r.GDLoss, r.GDLossMean2, r.GDUNorm, r.GDFreeEnergy, r.GDSharpness,
			m.LossMean, m.LossLo, m.LossHi, m.FreeEnergy, m.Sharpness, m.UNorm)
	}
	ck.Params = append(ck.Params, slices.Clone(o.x[0]), slices.Clone(o.x[1]), slices.Clone(o.x[2]),
		slices.Clone(o.loss[:]), slices.Clone(o.sharp[:]), rows)
	ck.Scalars["eta"] = o.eta
	ck.Scalars[scalarFlowTime] = o.time
	ck.Scalars[scalarCompareFrom] = float64(o.start)
	ck.Scalars[scalarCompareLast] = float64(o.last)
	ck.Blobs = map[string][]byte{blobFlow: flow}
	return ck, nil
}

// restore puts the observer, its flow and GD's eigensolver lz (nil when GD
// measures none) in the state of the comparison checkpoint ck, and returns
// GD's state to resume from. It checks everything before changing the
// observer, and names what does not match the comparison being resumed.
func (o *compareObserver) restore(ck *Checkpoint, lz *Lanczos) (*GDState, error) {
	st, err := ck.gdState(compareKind, "comparison", 7)
	if err != nil {
		return nil, err
	}
	n := o.p.Dim()
	for i, v := range ck.Params[:4] {
		if len(v) != n {
			return nil, fmt.Errorf("eos: comparison checkpoint vector %d has length %d, the problem has dimension %d", i, len(v), n)
		}
	}
	loss, sharp, flat := ck.Params[4], ck.Params[5], ck.Params[6]
	eta, t := ck.Scalars["eta"], ck.Scalars[scalarFlowTime]
	switch {
	case len(loss) != 3 || len(sharp) != 3 || len(flat)%compareRowLen != 0:
		return nil, fmt.Errorf("eos: comparison checkpoint malformed (%d losses, %d sharpnesses, %d row numbers)", len(loss), len(sharp), len(flat))
	case eta != o.eta:
		return nil, fmt.Errorf("eos: comparison checkpoint at η = %g, this comparison has η = %g", eta, o.eta)
	case ck.Scalars[scalarCompareFrom] != float64(o.start) || ck.Scalars[scalarCompareLast] != float64(o.last):
		return nil, fmt.Errorf("eos: comparison checkpoint compares steps %g to %g, this comparison %d to %d",
			ck.Scalars[scalarCompareFrom]+1, ck.Scalars[scalarCompareLast], o.start+1, o.last)
	case !(t >= 0) || math.IsInf(t, 0):
		return nil, fmt.Errorf("eos: comparison checkpoint flow time %g out of range [0, +Inf)", t)
	case st.K > o.last+2:
		return nil, fmt.Errorf("eos: comparison checkpoint at GD step %d, beyond the %d steps of this comparison", st.K, o.last+2)
	}
	nr := len(flat) / compareRowLen
	if nr > o.last-o.start {
		return nil, fmt.Errorf("eos: comparison checkpoint holds %d rows, more than the %d of this comparison", nr, o.last-o.start)
	}
	rows := make([]CompareRow, nr, o.last-o.start)
	for i := range rows {
		v := flat[i*compareRowLen : (i+1)*compareRowLen]
		if !isCount(v[0]) {
			return nil, fmt.Errorf("eos: comparison checkpoint row %d has step %g", i, v[0])
		}
		rows[i] = CompareRow{Step: int(v[0]), GDLoss: v[1], GDLossMean2: v[2], GDUNorm: v[3], GDFreeEnergy: v[4], GDSharpness: v[5],
			Model: Prediction{LossMean: v[6], LossLo: v[7], LossHi: v[8], FreeEnergy: v[9], Sharpness: v[10], UNorm: v[11]}}
	}
	u, ok := o.flow.(encoding.BinaryUnmarshaler)
	if !ok {
		return nil, fmt.Errorf("eos: the %s flow (%T) cannot be resumed: it has no UnmarshalBinary", o.flow.Name(), o.flow)
	}
	if err := restoreEigensolver(lz, ck.Eigensolver, "comparison checkpoint"); err != nil {
		return nil, err
	}
	if err := u.UnmarshalBinary(ck.Blobs[blobFlow]); err != nil {
		return nil, err
	}
	for i := range o.x {
		copy(o.x[i], ck.Params[1+i])
	}
	copy(o.loss[:], loss)
	copy(o.sharp[:], sharp)
	o.time = t
	o.cmp.Rows = rows
	return st, nil
}

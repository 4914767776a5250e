// Package report is what eoskit's notebooks use to talk to their reader: live
// progress of a long run (updated in place in a GoNB notebook, silent
// elsewhere), the closing summary row that `make reproduce` collects into
// out/summary.md, and the choice between the small default scale and the
// paper's scale (EOS_SCALE=paper, set by `make reproduce SCALE=paper`).
package report

// Command eos runs eoskit's experiments headless.
//
//	eos gd      full-batch GD with sharpness tracking; writes trace.csv, config.json
//	eos model   GD and a continuous-time flow side by side; writes model.csv, gd.csv, summary.json
//	eos kinetic mean-field GD and the kinetic particle system; writes kinetic.csv, gd.csv, particles.csv, summary.json
//	eos bench   time the kernels of the MLP workload; prints one JSON line
//	eos rerun   re-run the command recorded in DIR/config.json
//
// Exit status: 0 success, 1 a run that failed, 2 invalid flags or input
// (nothing written), 3 divergence (the trace up to the divergent step kept),
// 130 interrupted by SIGINT or SIGTERM (the trace so far and a checkpoint
// kept; eos gd --resume DIR continues the run).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/eoskit/eoskit/eos"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"gd", "full-batch GD with exact sharpness tracking", runGD},
		{"model", "GD and a continuous-time flow (free-energy, central, gradient) side by side", runModel},
		{"kinetic", "mean-field GD of a wide two-layer network against the kinetic particle system", runKinetic},
		{"bench", "time one GD step, one HVP, the sharpness and one model step of the MLP workload", runBench},
		{"rerun", "re-run the command recorded in DIR/config.json", runRerun},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal asks the run to stop between two steps and keep its
	// trace; a second one kills at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitCode(c.run(ctx, args[1:], stdout, stderr), stderr)
		}
	}
	fmt.Fprintf(stderr, "eos: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: eos COMMAND [flags]    (eos COMMAND -h for its flags)")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

// exitCode prints err and maps it to the exit status contract.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	fmt.Fprintln(stderr, "eos:", err)
	var u *usageError
	switch {
	case errors.As(err, &u):
		return exitUsage
	case eos.IsDivergence(err):
		return exitDiverged
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	}
	return exitFailure
}

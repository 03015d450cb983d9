// Command ksn checks the reputation of files and links.
package main

//go:generate go run ../gendocs -out ../..

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"

	"github.com/ksnproject/ksn/pkg/cli"
	"github.com/ksnproject/ksn/pkg/term"
)

func main() { os.Exit(run()) }

// run is main without the exit, so the script tests can run ksn in-process.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// The first Ctrl-C asks for a clean stop; once it has, signals are
	// the default again, so a second one ends ksn even if it is stuck.
	context.AfterFunc(ctx, stop)
	f := &cli.Factory{
		IO:        term.System(),
		Env:       os.Getenv,
		OpenStore: cli.DefaultOpenStore,
		Version:   version(),
	}
	return cli.Main(ctx, f)
}

// version is the module version when built with `go install`, else "dev".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

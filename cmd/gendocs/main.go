// Command gendocs writes ksn's shell completions and man pages from the
// cobra command tree, so they never drift from the code. `go generate
// ./...` runs it (see cmd/ksn/main.go); CI runs it and fails when the
// committed copies differ.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ksnproject/ksn/pkg/cli"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra/doc"
)

// manDate is fixed so that regenerating changes nothing unless the
// commands did; bump it when documenting a release.
var manDate = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("out", ".", "repository root to write completions/ and man/ into")
	flag.Parse()
	if err := generate(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func generate(root string) error {
	ios, _, _, _ := term.Test()
	cmd := cli.NewRootCmd(&cli.Factory{IO: ios, Env: func(string) string { return "" }, Version: "dev"})
	cmd.InitDefaultCompletionCmd()
	cmd.InitDefaultHelpCmd()

	compDir := filepath.Join(root, "completions")
	manDir := filepath.Join(root, "man")
	for _, d := range []string{compDir, manDir} {
		// Start clean so a removed command leaves no stale file behind.
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	writers := map[string]func(string) error{
		"ksn.bash": func(p string) error { return cmd.GenBashCompletionFileV2(p, true) },
		"_ksn":     cmd.GenZshCompletionFile,
		"ksn.fish": func(p string) error { return cmd.GenFishCompletionFile(p, true) },
		"ksn.ps1":  cmd.GenPowerShellCompletionFileWithDesc,
	}
	for name, write := range writers {
		if err := write(filepath.Join(compDir, name)); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	header := &doc.GenManHeader{Title: "KSN", Section: "1", Date: &manDate, Source: "ksn", Manual: "ksn manual"}
	return doc.GenManTree(cmd, header, manDir)
}

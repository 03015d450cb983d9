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
	"strings"
	"time"

	"github.com/ksnproject/ksn/pkg/cli"
	"github.com/ksnproject/ksn/pkg/exitcode"
	"github.com/ksnproject/ksn/pkg/term"
	"github.com/spf13/cobra"
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
	// Man pages go through Markdown, where <key> is an HTML tag and
	// vanishes: escape the placeholders so that they survive as text.
	escapePlaceholders(cmd)
	if err := doc.GenManTree(cmd, header, manDir); err != nil {
		return err
	}
	return addSections(manDir)
}

// escapePlaceholders makes every "<" in the tree's texts a Markdown
// escape.
func escapePlaceholders(c *cobra.Command) {
	esc := strings.NewReplacer("<", `\<`, ">", `\>`)
	c.Use, c.Long, c.Example = esc.Replace(c.Use), esc.Replace(c.Long), esc.Replace(c.Example)
	for _, sub := range c.Commands() {
		escapePlaceholders(sub)
	}
}

// addSections appends what every page needs and cobra does not write: the
// exit status of every command, and for ksn(1) the environment and files.
func addSections(dir string) error {
	pages, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		return err
	}
	var status strings.Builder
	status.WriteString(".SH EXIT STATUS\n")
	for _, e := range exitcode.Table {
		fmt.Fprintf(&status, ".TP\n.B %d\n%s\n", e.Code, roff(e.Meaning))
	}
	env, files, _ := strings.Cut(cli.EnvironmentText(), "\nFILES\n")
	extra := ".SH ENVIRONMENT\n.nf\n" + roff(strings.TrimPrefix(env, "ENVIRONMENT\n")) + "\n.fi\n" +
		".SH FILES\n.nf\n" + roff(files) + "\n.fi\n"
	for _, p := range pages {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		add := status.String()
		if filepath.Base(p) == "ksn.1" {
			add += extra
		}
		if err := os.WriteFile(p, append(b, add...), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// roff escapes text for a man page: backslashes, and lines that would
// start with a control character.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			lines[i] = `\&` + l
		}
	}
	return strings.Join(lines, "\n")
}

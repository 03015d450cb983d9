package cli

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The rules of the code layout (README, "Code layout"), held by a test so
// that the command layer stays thin and no file grows without bound.
const (
	// maxCLILines bounds pkg/cli's non-test code (issue 13: fewer than
	// 2,500 lines): flags, help, options and the calls that render fit in
	// it; logic and rendering belong to the packages it calls.
	maxCLILines     = 2500
	maxCLIFileLines = 300
	maxFileLines    = 600 // any non-test Go file in the tree
	module          = "github.com/ksnproject/ksn/"
)

type goFile struct {
	path    string // relative to the repository
	dir     string // e.g. "pkg/cli"
	lines   int
	imports []string
}

func repoFiles(t *testing.T) []goFile {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var files []goFile
	fset := token.NewFileSet()
	for _, top := range []string{"pkg", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			f, err := parser.ParseFile(fset, p, src, parser.ImportsOnly)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			g := goFile{path: rel, dir: filepath.Dir(rel), lines: strings.Count(string(src), "\n")}
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				g.imports = append(g.imports, path)
			}
			files = append(files, g)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func TestLayout(t *testing.T) {
	files := repoFiles(t)
	if len(files) < 50 {
		t.Fatalf("found only %d files: the walk is broken", len(files))
	}
	cliLines := 0
	for _, f := range files {
		if f.lines > maxFileLines {
			t.Errorf("%s has %d lines (at most %d): split it by concern", f.path, f.lines, maxFileLines)
		}
		for _, imp := range f.imports {
			pkg := strings.TrimPrefix(imp, module)
			switch {
			// The command layer wires databases and clients in one place.
			case f.dir == "pkg/cli" && filepath.Base(f.path) != "factory.go" &&
				slices.Contains([]string{"pkg/store", "pkg/client", "pkg/checksum", "pkg/participation"}, pkg):
				t.Errorf("%s imports %s: only pkg/cli/factory.go may", f.path, pkg)
			// The server is not a participant.
			case f.dir == "pkg/server" && (pkg == "pkg/participation" || pkg == "pkg/cli"):
				t.Errorf("%s imports %s", f.path, pkg)
			// Commands and the terminal are the only places that know cobra and lipgloss.
			case (strings.HasPrefix(imp, "github.com/spf13/cobra") || strings.HasPrefix(imp, "github.com/charmbracelet/")) &&
				strings.HasPrefix(f.dir, "pkg/") && f.dir != "pkg/cli" && f.dir != "pkg/term":
				t.Errorf("%s imports %s: only pkg/cli and pkg/term may", f.path, imp)
			}
		}
		if f.dir == "pkg/cli" {
			cliLines += f.lines
			if f.lines > maxCLIFileLines {
				t.Errorf("%s has %d lines (at most %d in pkg/cli)", f.path, f.lines, maxCLIFileLines)
			}
		}
	}
	if cliLines >= maxCLILines {
		t.Errorf("pkg/cli holds %d lines of non-test code (fewer than %d allowed): move logic to the packages it calls", cliLines, maxCLILines)
	}
	t.Logf("pkg/cli: %d lines of non-test code", cliLines)
}

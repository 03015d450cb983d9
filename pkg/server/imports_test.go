package server

import (
	"go/build"
	"strings"
	"testing"
)

// TestImports holds the package to what its doc comment promises: it
// depends on none of these, directly or through another ksn package.
func TestImports(t *testing.T) {
	const module = "github.com/ksnproject/ksn/"
	forbidden := []string{
		module + "pkg/participation", module + "pkg/client", module + "pkg/cli", module + "pkg/term",
		"github.com/spf13/cobra", "github.com/charmbracelet/lipgloss",
	}
	seen := map[string]string{} // package → a package that imports it
	var walk func(path, from string)
	walk = func(path, from string) {
		if _, ok := seen[path]; ok {
			return
		}
		seen[path] = from
		if !strings.HasPrefix(path, module) {
			return // third-party and standard packages are checked by name only
		}
		p, err := build.Import(path, ".", 0)
		if err != nil {
			t.Fatalf("import %s: %v", path, err)
		}
		for _, imp := range p.Imports {
			walk(imp, path)
		}
	}
	walk(module+"pkg/server", "")
	for _, f := range forbidden {
		for path, from := range seen {
			if path == f || strings.HasPrefix(path, f+"/") {
				t.Errorf("pkg/server depends on %s (imported by %s)", path, from)
			}
		}
	}
}

package config

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports holds the rule in doc.go: the package's non-test files import
// the standard library and the TOML decoder, nothing else. A standard
// library path has no dot in its first element; every module path does.
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{"github.com/BurntSushi/toml": true}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(path, "/")
			if !strings.Contains(first, ".") || allowed[path] {
				continue
			}
			t.Errorf("%s imports %s; pkg/config may import only the standard library and %s (see doc.go)",
				name, path, "github.com/BurntSushi/toml")
		}
	}
	if checked == 0 {
		t.Fatal("no Go files found; the test must run in the package directory")
	}
}

package engine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestListsAreComplete: Outcomes and Reasons, which metrics create their
// series from, list every Outcome and Reason constant this package
// declares, in the order declared, so a new one cannot be missed.
func TestListsAreComplete(t *testing.T) {
	t.Parallel()
	var outcomes, reasons []string
	for _, o := range Outcomes() {
		outcomes = append(outcomes, string(o))
	}
	for _, r := range Reasons() {
		reasons = append(reasons, string(r))
	}
	if got, want := outcomes, declared(t, "Outcome"); !slices.Equal(got, want) {
		t.Errorf("Outcomes() = %q, want the declared %q", got, want)
	}
	if got, want := reasons, declared(t, "Reason"); !slices.Equal(got, want) {
		t.Errorf("Reasons() = %q, want the declared %q", got, want)
	}
}

// declared returns the values of the string constants of type typ in this
// package's non-test files, in file and declaration order.
func declared(t *testing.T, typ string) []string {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var values []string
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != typ {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: a %s constant that is not a string literal", fset.Position(v.Pos()), typ)
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					values = append(values, s)
				}
			}
		}
	}
	if len(values) == 0 {
		t.Fatalf("no %s constants found", typ)
	}
	return values
}

package check_test

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// rootModule is the module path of the repository's root module, whose
// directory holds README.md and docs/.
const rootModule = "github.com/slidingjwt/slidingjwt"

// buildDir is where the programs are written, inside this module so that
// its go.mod (the replace directives to this checkout, the versions of
// Echo and Gin) applies to them. The go command leaves directories whose
// name starts with "_" out of ./..., so go vet, go test and staticcheck in
// this module never see them; each run writes into a directory of its own
// there and removes it when it ends, and .gitignore keeps any leftover out
// of git.
const buildDir = "_build"

// repoRoot returns the repository's root directory: two levels up, where
// the root module's go.mod must be.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !bytes.HasPrefix(mod, []byte("module "+rootModule+"\n")) {
		t.Fatalf("%s is not the root of %s (go.mod: %v): run the test from docs/check", root, rootModule, err)
	}
	return root
}

// docFiles returns README.md and every .md file under docs/, relative to
// root, in a stable order.
func docFiles(t *testing.T, root string) []string {
	t.Helper()
	files := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != filepath.Join(root, "docs") &&
			(strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".md") {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files[1:])
	return files
}

// block is a fenced code block of a Markdown file.
type block struct {
	file string // relative to the repository's root, e.g. "docs/stores.md"
	line int    // the line of the opening fence, counted from 1
	lang string // the first word of the info string, e.g. "go"
	code string
}

// fenceRE matches an opening or closing fence: up to three spaces, three
// or more backticks or tildes, and the info string.
var fenceRE = regexp.MustCompile("^( {0,3})(`{3,}|~{3,})(.*)$")

// parse splits a Markdown text into its fenced code blocks and the lines
// outside them (the others are returned empty, so that line numbers
// hold). An unclosed block runs to the end, as CommonMark reads it.
func parse(file, text string) (blocks []block, prose []string) {
	lines := strings.Split(text, "\n")
	prose = make([]string, len(lines))
	for i := 0; i < len(lines); i++ {
		m := fenceRE.FindStringSubmatch(lines[i])
		if m == nil || (m[2][0] == '`' && strings.Contains(m[3], "`")) {
			prose[i] = lines[i]
			continue
		}
		indent, fence := len(m[1]), m[2]
		lang, _, _ := strings.Cut(strings.TrimSpace(m[3]), " ")
		b := block{file: file, line: i + 1, lang: lang}
		var code []string
		for i++; i < len(lines); i++ {
			c := fenceRE.FindStringSubmatch(lines[i])
			if c != nil && c[2][0] == fence[0] && len(c[2]) >= len(fence) && strings.TrimSpace(c[3]) == "" {
				break
			}
			l := lines[i]
			for n := 0; n < indent && strings.HasPrefix(l, " "); n++ {
				l = l[1:]
			}
			code = append(code, l)
		}
		b.code = strings.Join(code, "\n") + "\n"
		blocks = append(blocks, b)
	}
	return blocks, prose
}

// mainRE finds the package clause of a complete program.
var mainRE = regexp.MustCompile(`(?m)^package main\s*$`)

// programs returns the ```go blocks of the documentation that hold a
// complete program (a "package main" clause).
func programs(t *testing.T, root string) []block {
	t.Helper()
	var progs []block
	for _, f := range docFiles(t, root) {
		text, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		blocks, _ := parse(f, string(text))
		for _, b := range blocks {
			if b.lang == "go" && mainRE.MatchString(b.code) {
				progs = append(progs, b)
			}
		}
	}
	return progs
}

// mainGoRE finds the compiler's positions in main.go, to be told as
// positions in the Markdown file.
var mainGoRE = regexp.MustCompile(`\./main\.go:(\d+)`)

// TestPrograms builds every Go program in README.md and docs/*.md with go
// build, each in a directory of its own under _build/ inside this module,
// against the code of this checkout (the replace directives in go.mod). A
// program that does not build fails the test with the file, the line of
// its block and the compiler's output; one that gofmt would change fails
// it too.
//
// The builds run with GOPROXY=off and -mod=readonly: they read only the
// module cache, which `go vet ./...` and `go test ./...` in this module
// have filled before the test runs (imports_test.go imports what the
// programs import, so the module graph, go.sum and the cache hold it). A
// program importing a package that this module does not require fails
// with the go command's "no required module provides package" error: add
// the import to imports_test.go and run go mod tidy here.
func TestPrograms(t *testing.T) {
	root := repoRoot(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command on PATH: %v", err)
	}
	progs := programs(t, root)
	inReadme := 0
	for _, p := range progs {
		if p.file == "README.md" {
			inReadme++
		}
	}
	if inReadme == 0 {
		t.Fatalf("README.md has no ```go block with package main; its quick starts are such programs")
	}
	t.Logf("%d programs, %d in README.md", len(progs), inReadme)

	if err := os.MkdirAll(buildDir, 0o755); err != nil {
		t.Fatal(err)
	}
	run, err := os.MkdirTemp(buildDir, "run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(run); err != nil {
			t.Errorf("removing %s: %v", run, err)
		}
		_ = os.Remove(buildDir) // when empty: another run may be using it
	})
	bin := t.TempDir()

	for _, p := range progs {
		name := fmt.Sprintf("%s:%d", p.file, p.line)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if src, err := format.Source([]byte(p.code)); err != nil {
				t.Errorf("%s: the program does not parse: %v", name, err)
			} else if !bytes.Equal(src, []byte(p.code)) {
				t.Errorf("%s: the program is not gofmt-formatted; gofmt writes:\n%s", name, src)
			}

			dirName := strings.NewReplacer("/", "_", ".", "_").Replace(p.file) + "_L" + strconv.Itoa(p.line)
			dir := filepath.Join(run, dirName)
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(p.code), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.CommandContext(t.Context(), goBin, "build", "-o", filepath.Join(bin, dirName), ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(),
				"GOWORK=off",
				"GOPROXY=off",
				"GOFLAGS=-mod=readonly -buildvcs=false",
			)
			out, err := cmd.CombinedOutput()
			if err != nil {
				// ./main.go:12:3 becomes README.md:69 (main.go:12):3.
				msg := mainGoRE.ReplaceAllStringFunc(string(out), func(pos string) string {
					n, _ := strconv.Atoi(mainGoRE.FindStringSubmatch(pos)[1])
					return fmt.Sprintf("%s:%d (main.go:%d)", p.file, p.line+n, n)
				})
				t.Errorf("%s: the Go program in the block that starts here does not build (go build: %v):\n%s", name, err, msg)
			}
		})
	}
}

// linkRE finds inline links and images, [text](target "title"), and
// reference definitions, [label]: target.
var (
	linkRE = regexp.MustCompile(`\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	refRE  = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$`)
	codeRE = regexp.MustCompile("`+[^`]*`+")
)

// TestLinks checks every relative link of README.md and docs/*.md outside
// code: its file exists in the repository, and a #fragment names a heading
// of the Markdown file it points to. Links with a scheme (https:, mailto:)
// are not followed; a link starting with "/" is refused, since it would
// not resolve inside the repository.
func TestLinks(t *testing.T) {
	root := repoRoot(t)
	anchors := map[string]map[string]bool{} // by file, relative to root
	anchorsOf := func(file string) map[string]bool {
		if a, ok := anchors[file]; ok {
			return a
		}
		text, err := os.ReadFile(filepath.Join(root, file))
		if err != nil {
			t.Fatal(err)
		}
		_, prose := parse(file, string(text))
		anchors[file] = headingAnchors(prose)
		return anchors[file]
	}

	checked := 0
	for _, f := range docFiles(t, root) {
		text, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		_, prose := parse(f, string(text))
		for i, line := range prose {
			line = codeRE.ReplaceAllString(line, "``")
			var targets []string
			for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
				targets = append(targets, m[1])
			}
			if m := refRE.FindStringSubmatch(line); m != nil {
				targets = append(targets, m[1])
			}
			for _, target := range targets {
				checked++
				if err := checkLink(root, f, target, anchorsOf); err != nil {
					t.Errorf("%s:%d: link %q: %v", f, i+1, target, err)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no links found: the parser is broken, or README.md links to no docs page")
	}
	t.Logf("%d links checked", checked)
}

// schemeRE recognises a link with a URL scheme.
var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

func checkLink(root, from, target string, anchorsOf func(string) map[string]bool) error {
	if schemeRE.MatchString(target) {
		return nil
	}
	if strings.HasPrefix(target, "/") {
		return fmt.Errorf("an absolute path: write it relative to %s", from)
	}
	path, frag, _ := strings.Cut(target, "#")
	file := from
	if path != "" {
		file = filepath.ToSlash(filepath.Join(filepath.Dir(from), path))
		if file == ".." || strings.HasPrefix(file, "../") {
			return fmt.Errorf("leads out of the repository")
		}
		if _, err := os.Stat(filepath.Join(root, file)); err != nil {
			return fmt.Errorf("no such file in the repository: %s", file)
		}
	}
	if frag != "" && strings.HasSuffix(file, ".md") && !anchorsOf(file)[frag] {
		return fmt.Errorf("%s has no heading whose anchor is #%s", file, frag)
	}
	return nil
}

// headingRE matches an ATX heading.
var headingRE = regexp.MustCompile(`^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$`)

// headingAnchors returns the anchors a Markdown renderer such as GitHub's
// gives the headings of a file: lower case, punctuation other than "-" and
// "_" dropped, spaces made "-", and "-1", "-2", ... added to repeats.
func headingAnchors(prose []string) map[string]bool {
	seen := map[string]int{}
	anchors := map[string]bool{}
	for _, line := range prose {
		m := headingRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteByte('-')
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			anchors[a+"-"+strconv.Itoa(n)] = true
		} else {
			anchors[a] = true
		}
		seen[a]++
	}
	return anchors
}

// TestParse pins the Markdown reading the other tests rely on.
func TestParse(t *testing.T) {
	text := strings.Join([]string{
		"# Title",                 // 1
		"```go",                   // 2
		"package main",            // 3
		"```",                     // 4
		"text [a](b.md#c)",        // 5
		"  ````sh",                // 6
		"  ```",                   // 7: not a close: shorter than the fence
		"  echo",                  // 8
		"  ````",                  // 9
		"## Title",                // 10
		"## `Code` and (parens)!", // 11
	}, "\n")
	blocks, prose := parse("x.md", text)
	if len(blocks) != 2 {
		t.Fatalf("got %d blocks, want 2: %+v", len(blocks), blocks)
	}
	if b := blocks[0]; b.line != 2 || b.lang != "go" || b.code != "package main\n" {
		t.Errorf("block 0 = %+v; want line 2, go, package main", b)
	}
	if b := blocks[1]; b.line != 6 || b.lang != "sh" || b.code != "```\necho\n" {
		t.Errorf("block 1 = %+v; want line 6, sh, the inner fence kept", b)
	}
	if prose[4] != "text [a](b.md#c)" || prose[2] != "" {
		t.Errorf("prose lines 3 and 5 = %q, %q; want the code blanked and the text kept", prose[2], prose[4])
	}
	got := headingAnchors(prose)
	for _, want := range []string{"title", "title-1", "code-and-parens"} {
		if !got[want] {
			t.Errorf("anchors %v lack %q", got, want)
		}
	}
	if m := linkRE.FindStringSubmatch(prose[4]); m == nil || m[1] != "b.md#c" {
		t.Errorf("link in %q = %v; want b.md#c", prose[4], m)
	}
}

package pluginsdk_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// guideExample is the connector GUIDE.md walks through. Its tests compile
// and run every file, so a guide block that is one of its files, or a
// verbatim excerpt of one, is compiled and run too.
const guideExample = "plugins/ticketing/"

// block is one fenced code block of a Markdown file.
type block struct {
	line   int    // of the opening fence
	lang   string // after the fence
	marker string // "file" or "from", from the HTML comment just above
	path   string // the marker's file, relative to the repository root
	text   string
}

var markerRE = regexp.MustCompile(`^<!-- (file|from): (\S+) -->$`)

func readBlocks(t *testing.T, name string) []block {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out  []block
		cur  *block
		prev string
		n    int
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &block{line: n, lang: strings.TrimPrefix(line, "```")}
			if m := markerRE.FindStringSubmatch(prev); m != nil {
				cur.marker, cur.path = m[1], m[2]
			}
		case cur != nil && line == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
		prev = line
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur != nil {
		t.Fatalf("%s:%d: code block never closed", name, cur.line)
	}
	return out
}

// checkBlock compares a marked block with the file it names: equal to it
// ("file"), or found in it as whole lines ("from"). It returns what is
// wrong, or "".
func checkBlock(doc string, b block) string {
	src, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(b.path)))
	if err != nil {
		return fmt.Sprintf("%s:%d: %v", doc, b.line, err)
	}
	switch b.marker {
	case "file":
		if string(src) != b.text {
			return fmt.Sprintf("%s:%d: the block is not %s as it is now; paste the file again (%s)", doc, b.line, b.path, firstDiff(b.text, string(src)))
		}
	case "from":
		if !bytes.Contains(append([]byte("\n"), src...), []byte("\n"+b.text)) {
			return fmt.Sprintf("%s:%d: the block is not a verbatim excerpt of %s (whole lines); copy it again", doc, b.line, b.path)
		}
	}
	return ""
}

// firstDiff shows the first line where the guide and the file differ.
func firstDiff(guide, file string) string {
	g, f := strings.Split(guide, "\n"), strings.Split(file, "\n")
	for i := 0; i < len(g) || i < len(f); i++ {
		var gl, fl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(f) {
			fl = f[i]
		}
		if gl != fl {
			return fmt.Sprintf("line %d:\n  guide: %s\n  file:  %s", i+1, gl, fl)
		}
	}
	return "equal lines"
}

// TestGuideBlocksAreTheExample keeps GUIDE.md honest: every Go block must
// be a file of the example connector or a verbatim excerpt of one (its
// tests compile and run them), and every other marked block must match its
// file too.
func TestGuideBlocksAreTheExample(t *testing.T) {
	blocks := readBlocks(t, "GUIDE.md")
	goBlocks, files := 0, map[string]bool{}
	for _, b := range blocks {
		if b.lang == "go" {
			goBlocks++
			if b.marker == "" {
				t.Errorf("GUIDE.md:%d: a Go block without <!-- file: PATH --> or <!-- from: PATH --> above it is checked by nothing", b.line)
				continue
			}
			if !strings.HasPrefix(b.path, guideExample) || !strings.HasSuffix(b.path, ".go") {
				t.Errorf("GUIDE.md:%d: %s is not a Go file of %s, whose tests run the guide's code", b.line, b.path, guideExample)
				continue
			}
		}
		if b.marker != "" {
			if problem := checkBlock("GUIDE.md", b); problem != "" {
				t.Error(problem)
			}
			if b.marker == "file" {
				files[b.path] = true
			}
		}
	}
	if goBlocks == 0 {
		t.Fatal("GUIDE.md has no Go blocks; the parser or the guide is broken")
	}
	// The guide shows the whole connector: each of its Go files.
	ents, err := os.ReadDir(filepath.Join("..", guideExample))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		name := guideExample + e.Name()
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") && !files[name] {
			t.Errorf("GUIDE.md does not show %s", name)
		}
	}
}

// TestReadmeMarkedBlocks checks the README's blocks that are marked as
// excerpts of the example connector; its unmarked blocks are signatures
// and outlines, not code to compile.
func TestReadmeMarkedBlocks(t *testing.T) {
	marked := 0
	for _, b := range readBlocks(t, "README.md") {
		if b.marker != "" {
			marked++
			if problem := checkBlock("README.md", b); problem != "" {
				t.Error(problem)
			}
		}
	}
	if marked == 0 {
		t.Error("README.md marks no block as an excerpt of the example connector")
	}
}

// The parser and the checks must catch drift, or the tests above prove
// nothing.
func TestGuideCheckCatchesDrift(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "doc.md")
	src := "<!-- from: " + guideExample + "main.go -->\n```go\nfunc main() { serve.Main() }\n```\n" +
		"<!-- file: " + guideExample + "main.go -->\n```go\npackage main\n```\n"
	if err := os.WriteFile(doc, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	blocks := readBlocks(t, doc)
	if len(blocks) != 2 || blocks[0].marker != "from" || blocks[1].marker != "file" {
		t.Fatalf("parsed %+v", blocks)
	}
	if problem := checkBlock(doc, blocks[0]); problem != "" {
		t.Errorf("a verbatim excerpt was refused: %s", problem)
	}
	if checkBlock(doc, blocks[1]) == "" {
		t.Error("a block that is not the whole file passed")
	}
	blocks[0].text = "func main() {serve.Main()}\n"
	if checkBlock(doc, blocks[0]) == "" {
		t.Error("an excerpt that differs from the file passed")
	}
}

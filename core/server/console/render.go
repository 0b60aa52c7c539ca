package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// base is what every page's view carries for the layout.
type base struct {
	Title string
	// Section is the navigation entry to mark as current.
	Section string
	// CSRF is the token every form posts back.
	CSRF     string
	LoggedIn bool
	Flash    *flash
	// Config is the running configuration's version, shown in the header.
	Config *config.Version
	// Node is the node serving the page.
	Node string
}

func (b *base) page() *base { return b }

type viewer interface{ page() *base }

type errorView struct {
	base
	Message string
	// Login offers a link to the login page.
	Login bool
}

// pages holds one template set per page: the layout plus the page's
// "content", so each page can define its own blocks.
type pages struct {
	byName map[string]*template.Template
}

func loadPages(funcs template.FuncMap) (*pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// render executes a page into a buffer first, so a template error becomes
// a 500 instead of half a page.
func (con *Console) render(c *fiber.Ctx, status int, name string, v viewer) error {
	t, ok := con.pages.byName[name]
	if !ok {
		return fmt.Errorf("console: no page template %q", name)
	}
	b := v.page()
	if s := sessionOf(c); s != nil {
		b.LoggedIn = true
		b.CSRF = s.csrf
		if b.Flash == nil {
			b.Flash = s.takeFlash()
		}
		b.Node = con.o.Node
		if con.o.ConfigVersion != nil {
			v := con.o.ConfigVersion()
			b.Config = &v
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("render console page %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(buf.Bytes())
}

func (con *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"when":     con.fmtTime,
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"ago":      con.ago,
		"duration": fmtDuration,
		"ms":       func(ms float64) string { return fmtDuration(time.Duration(ms * float64(time.Millisecond))) },
		"pretty":   prettyJSON,
		"jsonText": jsonText,
		"percent":  func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
		"count":    fmtCount,
		"chart":    barChart,
		"short":    shorten,
		"join":     strings.Join,
		"status":   statusLabel,
		"query":    queryString,
		"runError": runError,
		"deadValue": func(b bool) string {
			if b {
				return "1"
			}
			return ""
		},
		"contactName": contactName,
		"args":        args,
	}
}

// runError is the error a run list shows: the run's own, else the first
// failed task's.
func runError(r *store.Run) string {
	if r.Error != "" {
		return r.Error
	}
	for _, t := range r.Tasks {
		if t.Error != nil {
			return t.Name + ": " + t.Error.Message
		}
	}
	return ""
}

// args makes a map from key, value pairs, to pass several values to a
// template.
func args(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("args: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("args: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

func (con *Console) fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(con.loc).Format("2006-01-02 15:04:05 MST")
}

func (con *Console) ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := con.o.Now().Sub(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d.Hours()))
	}
	return fmt.Sprintf("%dd ago", int(d.Hours()/24))
}

func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	// "1m0s" reads better as "1m", "2h0m0s" as "2h".
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// fmtCount writes a count with thousands separators.
func fmtCount(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// maxShownJSON bounds how much of one payload a page shows.
const maxShownJSON = 256 << 10

// prettyJSON indents JSON for reading; what is not JSON is shown as is.
func prettyJSON(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return shorten(string(raw), maxShownJSON)
	}
	return shorten(buf.String(), maxShownJSON)
}

// jsonText renders any value as indented JSON (embedded data, records).
func jsonText(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return shorten(string(b), maxShownJSON)
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d more bytes)", len(s)-cut)
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// statusLabel is the text beside a status badge (never colour alone).
func statusLabel(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// queryString builds "?k=v&..." from pairs, skipping empty values.
func queryString(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			parts = append(parts, url.QueryEscape(pairs[i])+"="+url.QueryEscape(pairs[i+1]))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "?" + strings.Join(parts, "&")
}

// staticFiles serves the embedded CSS and JS with a content hash as ETag.
type staticFiles struct {
	files map[string]staticFile
}

type staticFile struct {
	data []byte
	etag string
	mime string
}

func loadStatic() (*staticFiles, error) {
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("console static files: %w", err)
	}
	sf := &staticFiles{files: map[string]staticFile{}}
	for _, e := range entries {
		data, err := fs.ReadFile(staticFS, "static/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("console static file %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(data)
		typ := mime.TypeByExtension(path.Ext(e.Name()))
		if typ == "" {
			typ = "application/octet-stream"
		}
		sf.files[e.Name()] = staticFile{data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, mime: typ}
	}
	return sf, nil
}

func (sf *staticFiles) serve(c *fiber.Ctx) error {
	f, ok := sf.files[c.Params("file")]
	if !ok {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderETag, f.etag)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if c.Get(fiber.HeaderIfNoneMatch) == f.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, f.mime)
	return c.Send(f.data)
}

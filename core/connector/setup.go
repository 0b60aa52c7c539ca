package connector

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"

	"github.com/junctionhub/junction/pluginsdk"
)

// Setup is how to point the sending system at a connection: its
// connector's SetupSteps (pluginsdk.SetupStep) filled in with the
// connection's URL and credentials. The API, the CLI and the console show
// the same thing, built here.
type Setup struct {
	Connection string `json:"connection"`
	Connector  string `json:"connector"`
	// BaseURL is the hub's URL the steps use, and BaseFrom where it came
	// from: "public_url" (Settings) or "request" (the URL the admin reached
	// the hub at, which a sender elsewhere may not reach).
	BaseURL  string `json:"baseUrl"`
	BaseFrom string `json:"baseFrom"`
	// Revealed says the credentials are shown; otherwise they read
	// Redacted.
	Revealed bool          `json:"revealed"`
	Steps    []SetupResult `json:"steps"`
	// Note explains an empty list.
	Note string `json:"note,omitempty"`
}

// SetupResult is one step as filled in for a connection.
type SetupResult struct {
	Title string `json:"title"`
	Text  string `json:"text"`
	Help  string `json:"help,omitempty"`
}

// Where a Setup's base URL came from.
const (
	BaseFromPublicURL = "public_url"
	BaseFromRequest   = "request"
)

// SetupBase picks the base URL of setup steps: Settings public_url when
// set, else the URL the request came to.
func SetupBase(publicURL, requestBase string) (base, from string) {
	if publicURL != "" {
		return strings.TrimSuffix(publicURL, "/"), BaseFromPublicURL
	}
	return strings.TrimSuffix(requestBase, "/"), BaseFromRequest
}

// setupData is what a step's template sees (documented on
// pluginsdk.SetupStep).
type setupData struct {
	URL, Base, Name            string
	Secret, Username, Password string
	Config                     map[string]any
}

var setupFuncs = template.FuncMap{"shell": shellQuote}

// Setup fills in the connector's setup steps for this connection. Its
// credentials are the ones in effect (a rotated webhook key, reconnected
// credentials), shown only when reveal is set. A step that fails to render
// is reported in its place rather than failing the others: it is the
// connector's bug, and the rest are still useful.
func (c *Conn) Setup(base, baseFrom string, reveal bool) Setup {
	out := Setup{Connection: c.Name(), Connector: c.Config.Connector, BaseURL: base, BaseFrom: baseFrom, Revealed: reveal, Steps: []SetupResult{}}
	if !c.ReceivesPushes() {
		if c.Spec.HasRole(pluginsdk.RoleReceive) {
			out.Note = "connection " + c.Name() + " receives no pushes until it has an auth block, so there is nothing to point at it yet"
		} else {
			out.Note = "connection " + c.Name() + " receives nothing (its connector " + c.Spec.Name + " only " + strings.Join(c.Spec.Roles, ", ") + "), so there is nothing to point at it"
		}
		return out
	}
	d := setupData{URL: base + "/hooks/" + c.Name(), Base: base, Name: c.Name(), Username: c.Auth.Username}
	if reveal {
		d.Secret, d.Password, d.Config = c.Auth.Secret, c.Auth.Password, c.Config.Config
	} else {
		d.Secret, d.Password = redactIfSet(c.Auth.Secret), redactIfSet(c.Auth.Password)
		d.Config = RedactedConfig(c.Config, c.Spec)
		for k, v := range d.Config {
			if v == Redacted {
				d.Config[k] = redactedMark
			}
		}
	}
	if d.Config == nil {
		d.Config = map[string]any{}
	}
	steps := c.Spec.Setup
	if len(steps) == 0 {
		// A connector that declares nothing still has a URL to give out.
		steps = []pluginsdk.SetupStep{{Title: "Hook URL", Text: "{{.URL}}", Help: "Send pushes here; the connector's README says with which credentials."}}
	}
	for _, st := range steps {
		text, err := renderStep(st.Text, d)
		if err != nil {
			out.Steps = append(out.Steps, SetupResult{Title: st.Title, Text: "this step could not be filled in: " + err.Error(), Help: st.Help})
			continue
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		out.Steps = append(out.Steps, SetupResult{Title: st.Title, Text: text, Help: st.Help})
	}
	return out
}

// redactedMark stands for a hidden credential while a step renders, and is
// replaced by Redacted after: a step escapes what it inserts for where it
// goes (html, js, shell), and "<redacted>" escaped reads
// "\u003Credacted\u003E" or "&lt;redacted&gt;". The mark has no character
// any of them escapes.
const redactedMark = "JUNCTION_REDACTED_9f1c2e"

// redactIfSet keeps an empty credential empty, so a step can test
// {{if .Secret}} whether or not it is revealed.
func redactIfSet(s string) string {
	if s == "" {
		return ""
	}
	return redactedMark
}

func renderStep(text string, d setupData) (string, error) {
	t, err := template.New("step").Funcs(setupFuncs).Option("missingkey=zero").Parse(text)
	if err != nil {
		return "", fmt.Errorf("parse: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render: %w", err)
	}
	return strings.TrimSpace(strings.ReplaceAll(b.String(), redactedMark, Redacted)), nil
}

// shellQuote quotes s for a POSIX shell: single quotes, with each single
// quote inside written as '\”.
func shellQuote(v any) string {
	return "'" + strings.ReplaceAll(fmt.Sprint(v), "'", `'\''`) + "'"
}

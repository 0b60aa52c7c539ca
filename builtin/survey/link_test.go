package survey

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLinkSignAndVerify(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	l := NewLinks(st.Secrets())
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	claims := LinkClaims{ContactID: "CID_1", DistributionID: "DIST_1", SurveyID: "SV_demo",
		Expires: now.Add(time.Hour).Unix(), Embedded: map[string]any{"Store": "Milano"}}
	token, err := l.Sign(ctx, claims)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.VerifyLink(ctx, token)
	if err != nil || got.ContactID != "CID_1" || got.DistributionID != "DIST_1" || got.SurveyID != "SV_demo" || got.Embedded["Store"] != "Milano" {
		t.Fatalf("VerifyLink = %+v, %v", got, err)
	}

	// The key is kept in the store: a restarted hub verifies old links.
	if _, err := st.Secrets().Get(ctx, LinkKeySecret); err != nil {
		t.Fatalf("secret %s: %v", LinkKeySecret, err)
	}
	restarted := NewLinks(st.Secrets())
	restarted.now = l.now
	if _, err := restarted.VerifyLink(ctx, token); err != nil {
		t.Errorf("after a restart: %v", err)
	}

	body, sig, _ := strings.Cut(token, ".")
	forged := strings.Replace(string(mustDecode(t, body)), "CID_1", "CID_2", 1)
	tests := []struct {
		name  string
		token string
		links *Links
		want  error
	}{
		{"claims changed", base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + sig, l, ErrLinkInvalid},
		{"signature changed", body + "." + strings.Repeat("A", len(sig)), l, ErrLinkInvalid},
		{"no signature", body, l, ErrLinkInvalid},
		{"extra part", token + ".x", l, ErrLinkInvalid},
		{"another hub's key", token, NewLinks(openStore(t).Secrets()), ErrLinkInvalid},
		{"garbage", "%%%.###", l, ErrLinkInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.links.VerifyLink(ctx, tt.token); !errors.Is(err, tt.want) {
				t.Errorf("VerifyLink: %v, want %v", err, tt.want)
			}
		})
	}

	t.Run("expired", func(t *testing.T) {
		now = now.Add(time.Hour)
		got, err := l.VerifyLink(ctx, token)
		if !errors.Is(err, ErrLinkExpired) || got == nil || got.DistributionID != "DIST_1" {
			t.Errorf("an hour later: %+v, %v; want ErrLinkExpired with the claims", got, err)
		}
	})
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPersonalLinkKeepsTheQuery(t *testing.T) {
	got, err := PersonalLink("https://surveys.example.com/jfe/form/SV_demo?Q_Language=IT", "abc.def")
	if err != nil || got != "https://surveys.example.com/jfe/form/SV_demo?Q_Language=IT&jt=abc.def" {
		t.Errorf("PersonalLink = %q, %v", got, err)
	}
}

func TestParseTTL(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"30d", 30 * 24 * time.Hour, false},
		{"7d12h", 7*24*time.Hour + 12*time.Hour, false},
		{"48h", 48 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"0d", 0, true},
		{"-1h", 0, true},
		{"soon", 0, true},
		{"d", 0, true},
	}
	for _, tt := range tests {
		got, err := parseTTL(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("parseTTL(%q) = %s, %v", tt.in, got, err)
		}
	}
}

func TestLinkTTLAndEmbeddedSubset(t *testing.T) {
	h := newHub(t, hubOptions{})
	out := h.distributeOK(t, "run_1/invite", `{"survey": "SV_demo", "directory": "POOL_demo", "method": "email",
		"contact": {"email": "ann@example.com"}, "embedded": {"Store": "Milano", "internal": "x"},
		"link_ttl": "7d", "link_embedded": ["Store", "absent"],
		"message": {"subject": "s", "body": "[[ .link ]]"}}`)
	c, err := h.links().VerifyLink(context.Background(), tokenOf(t, out.Link))
	if err != nil {
		t.Fatal(err)
	}
	d := h.distribution(t, out.DistributionID)
	if !c.ExpiresAt().Equal(d.CreatedAt.Add(7 * 24 * time.Hour).Truncate(time.Second)) {
		t.Errorf("expires %s, created %s", c.ExpiresAt(), d.CreatedAt)
	}
	if len(c.Embedded) != 1 || c.Embedded["Store"] != "Milano" {
		t.Errorf("embedded in the link: %v", c.Embedded)
	}

	_, err = h.run(t, h.distribute, "run_2/invite", `{"survey": "SV_demo", "directory": "POOL_demo", "method": "email",
		"contact": {"email": "ann@example.com"}, "embedded": {"notes": "`+strings.Repeat("x", 1100)+`"},
		"message": {"subject": "s", "body": "[[ .link ]]"}}`)
	if msg := permanentError(t, err); !strings.Contains(msg, "too much for a link (at most 1024): list the keys the survey needs in with.link_embedded") {
		t.Errorf("error %q", msg)
	}
}

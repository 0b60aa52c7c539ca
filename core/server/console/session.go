package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/store"
)

const (
	sessionCookie = "junction_session"
	// loginCookie carries the login form's CSRF token (double submit): there
	// is no session yet to keep it in.
	loginCookie = "junction_login"
	csrfField   = "csrf"
	// kvSessionPrefix holds sessions in the store, keyed by the SHA-256 of
	// the session ID, so a copy of the store does not hold usable cookies.
	kvSessionPrefix = "console/session/"
)

// session is one logged-in browser.
type session struct {
	key     string // hex SHA-256 of the cookie value
	csrf    string
	expires time.Time
	// token is a digest of the admin token hash the session was opened
	// with: rotating the admin token ends every session.
	token string

	mu    sync.Mutex
	flash *flash
}

// flash is a one-time message shown on the next page (after a redirect).
type flash struct {
	Kind string // "notice" or "error"
	Text string
}

func (s *session) setFlash(kind, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flash = &flash{Kind: kind, Text: fmt.Sprintf(format, args...)}
}

func (s *session) takeFlash() *flash {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flash
	s.flash = nil
	return f
}

// storedSession is a session as kept in the store's KV.
type storedSession struct {
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"expires"`
	Token   string    `json:"token"`
}

// sessions keeps sessions in memory and in the store's KV (with the same
// TTL), so a restart of the hub keeps operators logged in.
type sessions struct {
	kv    store.KV
	token string
	ttl   time.Duration
	now   func() time.Time

	mu sync.Mutex
	m  map[string]*session
}

func newSessions(kv store.KV, tokenHash [32]byte, ttl time.Duration, now func() time.Time) *sessions {
	d := sha256.Sum256(append([]byte("junction console session\x00"), tokenHash[:]...))
	return &sessions{kv: kv, token: hex.EncodeToString(d[:]), ttl: ttl, now: now, m: map[string]*session{}}
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func sessionKey(id string) string {
	d := sha256.Sum256([]byte(id))
	return hex.EncodeToString(d[:])
}

// create opens a session and returns its cookie value.
func (ss *sessions) create(ctx context.Context) (string, *session, error) {
	id, err := randomToken()
	if err != nil {
		return "", nil, err
	}
	csrf, err := randomToken()
	if err != nil {
		return "", nil, err
	}
	now := ss.now()
	s := &session{key: sessionKey(id), csrf: csrf, expires: now.Add(ss.ttl), token: ss.token}
	v, err := json.Marshal(storedSession{CSRF: s.csrf, Expires: s.expires, Token: s.token})
	if err != nil {
		return "", nil, fmt.Errorf("encode session: %w", err)
	}
	if err := ss.kv.Set(ctx, kvSessionPrefix+s.key, v, ss.ttl); err != nil {
		return "", nil, fmt.Errorf("store session: %w", err)
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	// Drop expired sessions here rather than from a timer goroutine: logins
	// are rare, and an expired session is refused on lookup anyway.
	for k, old := range ss.m {
		if !now.Before(old.expires) {
			delete(ss.m, k)
		}
	}
	ss.m[s.key] = s
	return id, s, nil
}

// lookup returns the live session for a cookie value, or nil.
func (ss *sessions) lookup(ctx context.Context, id string) (*session, error) {
	if id == "" {
		return nil, nil
	}
	key := sessionKey(id)
	now := ss.now()
	ss.mu.Lock()
	s, ok := ss.m[key]
	ss.mu.Unlock()
	if !ok {
		v, err := ss.kv.Get(ctx, kvSessionPrefix+key)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("load session: %w", err)
		}
		var st storedSession
		if err := json.Unmarshal(v, &st); err != nil {
			return nil, fmt.Errorf("decode session: %w", err)
		}
		s = &session{key: key, csrf: st.CSRF, expires: st.Expires, token: st.Token}
		ss.mu.Lock()
		ss.m[key] = s
		ss.mu.Unlock()
	}
	if !now.Before(s.expires) || subtle.ConstantTimeCompare([]byte(s.token), []byte(ss.token)) != 1 {
		return nil, ss.delete(ctx, id)
	}
	return s, nil
}

func (ss *sessions) delete(ctx context.Context, id string) error {
	key := sessionKey(id)
	ss.mu.Lock()
	delete(ss.m, key)
	ss.mu.Unlock()
	if err := ss.kv.Delete(ctx, kvSessionPrefix+key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func sessionOf(c *fiber.Ctx) *session {
	s, _ := c.Locals("session").(*session)
	return s
}

func (con *Console) setCookie(c *fiber.Ctx, name, value, path string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name: name, Value: value, Path: path, Expires: expires,
		HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
		Secure: c.Protocol() == "https",
	})
}

func (con *Console) clearCookie(c *fiber.Ctx, name, path string) {
	con.setCookie(c, name, "", path, time.Unix(1, 0))
}

// requireSession lets a request with a live session through. Without one,
// a page redirects to the login form (coming back afterwards) and a form
// post is refused: it cannot carry a valid CSRF token.
func (con *Console) requireSession(c *fiber.Ctx) error {
	con.secureHeaders(c)
	s, err := con.sessions.lookup(c.UserContext(), c.Cookies(sessionCookie))
	if err != nil {
		return err
	}
	if s == nil {
		if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
			return c.Redirect("/login?next="+url.QueryEscape(string(c.Request().RequestURI())), fiber.StatusSeeOther)
		}
		return con.refuse(c, "You are not logged in (or your session has ended), so this form was not accepted. Log in and try again.")
	}
	c.Locals("session", s)
	return c.Next()
}

// checkCSRF refuses a form post whose csrf field (or X-CSRF-Token header)
// is not the session's token; one in the query string does not count.
func (con *Console) checkCSRF(c *fiber.Ctx) error {
	s := sessionOf(c)
	got := csrfToken(c)
	if s == nil || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
		return con.refuse(c, "This form was refused: its security token is missing or out of date. Reload the page and submit it again.")
	}
	return c.Next()
}

func (con *Console) refuse(c *fiber.Ctx, msg string) error {
	v := &errorView{Message: msg, Login: true}
	v.Title = "Refused"
	return con.render(c, fiber.StatusForbidden, "error", v)
}

// secureHeaders keeps console pages out of caches and frames, and lets
// them load scripts and styles from the console's own origin only.
func (con *Console) secureHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
}

type loginView struct {
	base
	Next  string
	Error string
}

func (con *Console) loginPage(c *fiber.Ctx) error {
	con.secureHeaders(c)
	next := safeNext(c.Query("next"))
	if s, err := con.sessions.lookup(c.UserContext(), c.Cookies(sessionCookie)); err == nil && s != nil {
		return c.Redirect(next, fiber.StatusSeeOther)
	}
	return con.renderLogin(c, fiber.StatusOK, next, "")
}

func (con *Console) renderLogin(c *fiber.Ctx, status int, next, msg string) error {
	tok, err := randomToken()
	if err != nil {
		return err
	}
	con.setCookie(c, loginCookie, tok, "/login", con.o.Now().Add(time.Hour))
	v := &loginView{Next: next, Error: msg}
	v.Title = "Log in"
	v.CSRF = tok
	return con.render(c, status, "login", v)
}

// login checks the posted admin token against its hash in constant time
// (comparing digests also hides the token's length) and opens a session.
func (con *Console) login(c *fiber.Ctx) error {
	con.secureHeaders(c)
	want := c.Cookies(loginCookie)
	got := csrfToken(c)
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return con.refuse(c, "This login form was refused: its security token is missing or out of date. Open the login page again.")
	}
	next := safeNext(c.FormValue("next"))
	ip := c.IP()
	if blocked, left := con.logins.Blocked(ip); blocked {
		// Checked before the token, so that guessing stops here even when a
		// guess would be right.
		wait := int(left.Round(time.Minute).Minutes())
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(left.Seconds())+1))
		con.log.Warn("console login refused: too many failures", "ip", ip)
		return con.renderLogin(c, fiber.StatusTooManyRequests, next,
			fmt.Sprintf("Too many failed logins from your address. Try again in %d minute(s).", max(wait, 1)))
	}
	sum := sha256.Sum256([]byte(postedValue(c, "token")))
	if subtle.ConstantTimeCompare(sum[:], con.o.AdminTokenHash[:]) != 1 {
		con.logins.Fail(ip)
		con.log.Warn("console login refused", "ip", ip)
		return con.renderLogin(c, fiber.StatusUnauthorized, next, "That is not the admin token.")
	}
	con.logins.Succeed(ip)
	id, s, err := con.sessions.create(c.UserContext())
	if err != nil {
		return err
	}
	con.clearCookie(c, loginCookie, "/login")
	con.setCookie(c, sessionCookie, id, "/", s.expires)
	return c.Redirect(next, fiber.StatusSeeOther)
}

func (con *Console) logout(c *fiber.Ctx) error {
	if err := con.sessions.delete(c.UserContext(), c.Cookies(sessionCookie)); err != nil {
		return err
	}
	con.clearCookie(c, sessionCookie, "/")
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// safeNext keeps the post-login redirect on this site: a path, never a URL
// to somewhere else ("//evil.example", "/\evil.example").
func safeNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/runs"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(u.Path, "/login") {
		return "/runs"
	}
	return next
}

package pluginsdk

// SetupStep is one thing to do in the system that sends to a connection:
// a URL to paste into a form, a snippet for a web page, a curl line. The
// connector declares its steps in its Spec because only it knows where its
// senders take a URL and a credential; the host fills them in for each
// connection (the console's Setup section, GET
// /api/v1/connections/{name}/setup, `junction connection show --setup`).
//
// Text is a Go text/template. It is executed with:
//
//	.URL       the connection's hook URL, <base>/hooks/<name>
//	.Base      the hub's base URL (Settings public_url, or the URL the
//	           admin reached the hub at)
//	.Name      the connection's name
//	.Secret    the auth secret (api_key)
//	.Username  the auth username (basic)
//	.Password  the auth password (basic)
//	.Config    the connection's config block, by key
//
// and the function shell, which quotes a string for a POSIX shell, besides
// text/template's own (html, js, urlquery, ...). Credentials (.Secret,
// .Password and secret config values) read "<redacted>" unless an admin
// asks to reveal them, so a step must read sensibly either way. A step
// whose template renders to nothing (an {{if}} around it all) is left out.
type SetupStep struct {
	// Title names the step in the sender's terms ("Webhooks destination URL").
	Title string `json:"title"`
	// Text is the template of what to copy.
	Text string `json:"text"`
	// Help, optional, says where in the sending system the text goes.
	Help string `json:"help,omitempty"`
}

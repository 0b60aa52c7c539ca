package pluginsdk

// Push declares how pushes to a receiving connector arrive, so the host
// can do the cheap checks before it reads, decompresses or hands over a
// body: a public route must cost what a request may be, never what it
// expands to. The connector still checks everything itself (defense in
// depth); Push only lets the host refuse earlier.
type Push struct {
	// Encodings lists the Content-Encoding values the connector's senders
	// use. Only EncodingGzip is known, and at most one layer of it: the host
	// decompresses it as a stream, refusing (413) the moment the result
	// passes the hub's max_body_bytes. Identity (no Content-Encoding) is
	// always accepted; anything else gets 415.
	Encodings []string `json:"encodings,omitempty"`
	// Credentials lists where a request carries the connection's
	// credential, in the order the host looks. When the connection's auth
	// is anything but none, the first credential present decides: the host
	// compares it with the connection's auth where it can (401 when wrong),
	// and a request carrying none of them is refused (401) before its body
	// is read, unless CredentialBody is listed. Empty: the host checks
	// nothing and the connector alone authenticates.
	Credentials []Credential `json:"credentials,omitempty"`
	// Faults says how the host words its own refusals of a push (no or
	// wrong credentials, a refused address, a body over the limit, a full
	// disk): "" for the API's JSON error, FaultsSOAP for a SOAP 1.1 fault,
	// for senders that only read SOAP (Salesforce shows the faultstring in
	// its delivery status).
	Faults string `json:"faults,omitempty"`
}

// FaultsSOAP is the Push.Faults value of a connector whose senders speak
// SOAP 1.1.
const FaultsSOAP = "soap"

// EncodingGzip is the one Content-Encoding a connector may declare.
const EncodingGzip = "gzip"

// DefaultMaxEvents is the per-request event cap of a connection whose
// config sets no max_events: a connector refuses a request splitting into
// more (413), and the host refuses a Receive result above it as a
// backstop. 1000 events of ~1 KB fill the default 1 MiB body limit, and
// real batches stay far below it (Segment SDKs flush at 15 to 250
// messages, Salesforce sends at most 100 notifications); a request with
// more is a bug or an attack, and each event costs a log write.
const DefaultMaxEvents = 1000

// CredentialIn names where a request carries its credential.
type CredentialIn string

const (
	// CredentialHeader: header Name holds the credential; under auth
	// api_key the host compares it with the secret.
	CredentialHeader CredentialIn = "header"
	// CredentialSignature: header Name signs the body (an HMAC). The host
	// can only see that it is there; the connector verifies it.
	CredentialSignature CredentialIn = "signature"
	// CredentialBasic: Authorization: Basic. Under auth basic the host
	// compares username and password; under api_key the key is the user
	// name (Segment's write key).
	CredentialBasic CredentialIn = "basic"
	// CredentialPath: the first path segment after /hooks/{connection}/ is
	// the credential (a secret URL, as Salesforce outbound messages use);
	// under api_key the host compares it with the secret.
	CredentialPath CredentialIn = "path"
	// CredentialBody: the body may carry the credential (Segment's
	// writeKey), so a request without another one is not refused before
	// its body is read; the connector decides.
	CredentialBody CredentialIn = "body"
)

// Credential is one place a request may carry its credential.
type Credential struct {
	In CredentialIn `json:"in"`
	// Name is the header of CredentialHeader and CredentialSignature, in
	// canonical form (X-Api-Key).
	Name string `json:"name,omitempty"`
	// Says names the credential in the host's 401 answers, in the
	// sender's terms ("the Segment write key as the basic-auth user");
	// empty: the host describes the place.
	Says string `json:"says,omitempty"`
}

package pluginsdk

// ABIVersion is the version of the request/response envelope shared by every
// connector form. A host refuses a module that declares another version.
const ABIVersion = 1

// Direction says which way data flows through a connector.
type Direction string

const (
	Inbound       Direction = "inbound"
	Outbound      Direction = "outbound"
	Bidirectional Direction = "bidirectional"
)

// AuthType names an authentication method a connection may use.
type AuthType string

const (
	AuthNone   AuthType = "none"
	AuthAPIKey AuthType = "api_key"
	AuthBasic  AuthType = "basic"
	AuthOAuth2 AuthType = "oauth2"
)

// Spec describes a connector: what it is, how it authenticates, which config it
// takes, which roles it implements, what actions it performs and what entities
// it fetches. It is the one struct the registry and the docs read.
type Spec struct {
	Name        string     `json:"name"`
	Version     string     `json:"version"`
	ABI         int        `json:"abi"`
	Description string     `json:"description,omitempty"`
	Direction   Direction  `json:"direction"`
	Auth        []AuthType `json:"auth,omitempty"`
	// Config lists the keys of the connection's `config:` block.
	Config []Param `json:"config,omitempty"`
	// Roles the connector implements: "receive", "fetch", "metadata", "perform".
	Roles    []string `json:"roles"`
	Actions  []Action `json:"actions,omitempty"`
	Entities []Entity `json:"entities,omitempty"`
	// Push, for a connector with the receive role, says which
	// Content-Encodings its senders use and where they put credentials
	// (see Push).
	Push Push `json:"push,omitzero"`
	// Setup, for a connector with the receive role, is what to do in the
	// sending system to point it at a connection (see SetupStep).
	Setup []SetupStep `json:"setup,omitempty"`
}

// Role names used in Spec.Roles.
const (
	RoleReceive  = "receive"
	RoleFetch    = "fetch"
	RoleMetadata = "metadata"
	RolePerform  = "perform"
)

// HasRole reports whether the spec declares role.
func (s Spec) HasRole(role string) bool {
	for _, r := range s.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// Action returns the named action and whether it exists.
func (s Spec) Action(name string) (Action, bool) {
	for _, a := range s.Actions {
		if a.Name == name {
			return a, true
		}
	}
	return Action{}, false
}

// ParamType is the type of a config parameter or action input.
type ParamType string

const (
	TypeString   ParamType = "string"
	TypeNumber   ParamType = "number"
	TypeBoolean  ParamType = "boolean"
	TypeDuration ParamType = "duration"
	TypeObject   ParamType = "object"
	TypeList     ParamType = "list"
	TypeSecret   ParamType = "secret"
)

// Param describes one config key or action input key.
type Param struct {
	Name        string    `json:"name"`
	Type        ParamType `json:"type"`
	Required    bool      `json:"required,omitempty"`
	Default     string    `json:"default,omitempty"`
	Description string    `json:"description,omitempty"`
}

// Action is something an outbound connector performs (`uses: <connection>.<action>`).
type Action struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Input       []Param `json:"input,omitempty"`
}

// Entity is a kind of record a pull connector fetches.
type Entity struct {
	Name        string  `json:"name"`
	DisplayName string  `json:"displayName,omitempty"`
	Fields      []Field `json:"fields,omitempty"`
}

// Field describes one field of an entity (the data overview's metadata table).
type Field struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
	APILabel    string `json:"apiLabel,omitempty"`
	Type        string `json:"type"`
	Required    bool   `json:"required,omitempty"`
	ReadOnly    bool   `json:"readOnly,omitempty"`
}

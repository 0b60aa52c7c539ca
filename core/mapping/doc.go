// Package mapping turns an inbound payload into what a workflow's tasks
// need: it decides whether the workflow runs (filter), extracts typed values
// (fields), renders each task's `with:` value (templates), and proposes a
// `fields:` block from a sample payload (inference).
//
// Everything is compiled once, when configuration loads; per event the work
// is a walk over the decoded payload. Compiled filters, fields and values are
// safe for concurrent use.
//
// # Payloads
//
// A payload is JSON, decoded by [Decode] into objects, arrays, strings,
// numbers, booleans and null. Numbers keep their text until a field converts
// them, so an ID such as 12345678901234567890 is not rounded.
//
// # Paths
//
// Paths are RFC 9535 JSONPath, starting at $ (the payload):
//
//	$.properties.revenue            a member
//	$.context["user-agent"]         a member whose name is not an identifier
//	$.identityMap.Email[0].id       the first element of an array
//	$.products[-1].sku              the last element
//	$.products[*].sku               every element (several matches)
//	$..email                        every "email" member at any depth
//	$.products[?@.price > 10].sku   elements that pass a filter
//
// Paths made only of names and indexes are walked directly and cost almost
// nothing; the others run through a full RFC 9535 engine.
//
// # Fields
//
//	fields:
//	  email:  {path: $.context.traits.email, type: string, required: true}
//	  amount: {path: $.properties.revenue, type: number, default: 0}
//	  closed: {path: $.sObject.IsClosed, type: boolean}
//	  skus:   {path: '$.products[*].sku'}
//
// A path that matches nothing, or matches null, gives the field's default,
// or null when there is none. A required field that is missing or null fails
// the run: `field email: $.context.traits.email is missing and the field is
// required`. A field cannot be both required and have a default.
//
// The type converts the value:
//
//   - number: a JSON number, or a string holding a decimal number with
//     optional spaces, sign, fraction and exponent ("12.50", " 3 ", "-1e3").
//     The result is a 64-bit float. Anything else fails:
//     `field amount: $.properties.revenue is "abc", not a number`.
//   - boolean: true or false, the numbers 1 and 0, or the strings "true",
//     "false", "yes", "no", "1", "0" in any case (Salesforce sends "true").
//     Anything else fails: `field closed: $.sObject.IsClosed is "maybe", not
//     a boolean`.
//   - string: strings as they are; numbers as plain decimals without an
//     exponent ("12.5", "1000000"; integers exactly as sent); booleans as
//     "true"/"false"; objects and arrays as compact JSON. Never fails.
//   - no type: the value as it is in the payload.
//
// A field with a type takes the first match of its path; a field without a
// type whose path can match several nodes (wildcards, slices, filters, ..)
// takes the list of every match. To get a list, leave the type out.
//
// A default is converted to the field's type when configuration loads.
//
// # Filters
//
// Every condition must hold for the workflow to run:
//
//	filter:
//	  - {path: $.type, op: eq, value: track}
//	  - {path: $.event, op: in, value: [Order Completed, Order Refunded]}
//	  - {path: $.properties.revenue, op: gte, value: 100}
//
// Operators:
//
//   - eq, ne: equality with the coercions people expect. Numbers compare as
//     numbers: value 100 matches 100, 100.0 and "100". Booleans match the
//     strings "true" and "false" (any case): value true matches "true".
//     Strings compare exactly, case included. A null value matches null.
//     ne holds when no matched node equals the value, including when the
//     path matches nothing.
//   - in: the value is a list; holds when a node equals (as eq) any element.
//   - exists: holds when the path matches something other than null; with
//     value: false, when it does not.
//   - gt, gte, lt, lte: when the value is a number (or a numeric string),
//     nodes compare as numbers, and numeric strings count as numbers; when
//     the value is a timestamp (RFC 3339 such as 2024-05-01T10:00:00Z, or a
//     date 2024-05-01), nodes that are timestamps compare as times. Any
//     other value is an error when configuration loads. A node that is not
//     comparable never passes.
//   - contains: a string node holds the value as a substring, or an array
//     node holds an element equal (as eq) to the value.
//   - matches: the node (a string, number or boolean, as text) matches a Go
//     regular expression (RE2 syntax, unanchored: use ^ and $ to anchor). A
//     bad expression is an error when configuration loads.
//
// A path that matches several nodes (such as $.products[*].sku) holds when
// any node satisfies the condition; for ne, when none equals the value. A
// path that matches nothing fails every operator except ne and
// exists: false.
//
// # Templates
//
// Each string in a task's `with:` value is a Go text/template, compiled once:
//
//	with:
//	  contact: {email: "{{ .fields.email }}"}
//	  data:
//	    amount: "{{ .fields.amount }}"
//	    items: "{{ .event.properties.products }}"
//	    note: "Order {{ .fields.order }} ({{ .fields.amount }} {{ .event.properties.currency | upper }})"
//	  tries: 3
//
// The data is .event (the payload), .fields (the extracted fields),
// .tasks.NAME.output (the output of an earlier task), and whatever the
// runtime adds (such as .run).
//
// A string that is exactly one reference, like "{{ .fields.amount }}" or
// "{{ .event.properties.products }}", renders to the referenced value with
// its type: a number stays a number, an object stays an object. Any other
// template renders to a string, where numbers, booleans and objects print as
// they convert to a string field. Strings without {{ and values that are not
// strings (3, true, lists and objects around the templates) are kept as
// they are.
//
// A reference to something missing (an absent key, a null on the way, a
// task that produced no output) gives null for a single reference and
// nothing in text; "<no value>" never appears.
//
// Functions, beyond text/template's own (and, or, not, eq, ne, lt, le, gt,
// ge, len, print, printf, println, slice, html, js, call):
//
//	default D V       V, or D when V is null, "" or an empty list or object
//	                  (0 and false are kept): {{ .fields.plan | default "free" }}
//	lower V, upper V  lower or upper case of V as text
//	trim V            V as text without leading and trailing space
//	json V            V as compact JSON: {{ json .event.properties }}
//	join SEP LIST     the elements as text, joined: {{ .event.tags | join ", " }}
//	now               the current time, RFC 3339 in UTC
//	formatTime LAYOUT [ZONE] V
//	                  V (RFC 3339, a date, or Unix seconds; milliseconds when
//	                  the number is too large for seconds) in a Go layout,
//	                  optionally in an IANA zone:
//	                  {{ formatTime "2006-01-02" "Europe/Rome" .event.timestamp }}
//	urlquery V...     the values as text, escaped for a URL query
//	sha256 V          hex SHA-256 of V as text
//	hmacSHA256 KEY V  hex HMAC-SHA256 of V with KEY
//	index V K...      V[K]... for object keys and array positions; a missing
//	                  key or an index out of range gives null
//	printf F V...     fmt.Sprintf
//
// Templates are checked when configuration loads: a syntax error or an
// unknown function is reported with the leaf, as in `body.order: function
// "foo" not defined`, and every reference to .fields.X, .tasks.Y and .event
// is listed (see [Value.References]) so that a reference to a field or task
// that does not exist is reported before any event arrives.
//
// # Inference
//
// `junction mapping infer FILE` reads a sample payload and prints a
// `fields:` block: one field per scalar value, found by walking objects and
// the first element of each array. Types come from the sample: numbers give
// number, true/false (and the strings "true"/"false") give boolean,
// everything else, null included, gives string. Names are the last key in
// lower camel case, prefixed with parent keys when two would collide
// (traitsEmail, contextTraitsEmail). Review the result: a numeric ID should
// often be a string, and a field you do not need can go.
package mapping

package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// response is the envelope of every Marketo REST answer. Marketo reports
// failures as HTTP 200 with "success": false and errors[].code.
type response struct {
	success       bool
	result        []byte // the raw "result" array; nil when absent
	nextPageToken string
	moreResult    bool
	requestID     string
	errs          []apiErr
}

// apiErr is one entry of errors[] (or of a record's reasons[]).
type apiErr struct {
	code    string
	message string
}

// The envelope is read with fields (host-scanned under Wasm): encoding/json
// in a Go guest is an order of magnitude slower, and activity pages run to
// hundreds of records.
var (
	envelopePaths = fields.MustCompile("$.success", "$.result", "$.nextPageToken", "$.moreResult", "$.requestId", "$.errors")
	errorPaths    = fields.MustCompile("$.code", "$.message")
)

const (
	eSuccess = iota
	eResult
	eNextPageToken
	eMoreResult
	eRequestID
	eErrors
	nEnvelope
)

// parseResponse reads a REST response body. It fails on anything that is not
// a JSON object carrying a boolean success.
func parseResponse(body []byte) (response, error) {
	var r response
	var v [nEnvelope][]byte
	if err := envelopePaths.Extract(body, v[:]); err != nil {
		return r, err
	}
	if firstByte(body) != '{' {
		return r, errors.New("not a JSON object")
	}
	ok := false
	if r.success, ok = fields.Bool(v[eSuccess]); !ok {
		return r, errors.New(`no boolean "success"`)
	}
	if !fields.IsNull(v[eResult]) {
		if v[eResult][0] != '[' {
			return r, errors.New(`"result" is not an array`)
		}
		r.result = v[eResult]
	}
	if !fields.IsNull(v[eNextPageToken]) {
		if r.nextPageToken, ok = fields.String(v[eNextPageToken]); !ok {
			return r, errors.New(`"nextPageToken" is not a string`)
		}
	}
	if !fields.IsNull(v[eMoreResult]) {
		if r.moreResult, ok = fields.Bool(v[eMoreResult]); !ok {
			return r, errors.New(`"moreResult" is not a boolean`)
		}
	}
	r.requestID, _ = fields.String(v[eRequestID])
	if !fields.IsNull(v[eErrors]) {
		errs, err := parseErrors(v[eErrors])
		if err != nil {
			return r, fmt.Errorf(`"errors": %w`, err)
		}
		r.errs = errs
	}
	return r, nil
}

// parseErrors reads a list of {code, message}; code may be a string (as
// Marketo sends it) or a number.
func parseErrors(raw []byte) ([]apiErr, error) {
	if firstByte(raw) != '[' {
		return nil, errors.New("not an array")
	}
	items, err := fields.Elements(raw)
	if err != nil {
		return nil, err
	}
	out := make([]apiErr, 0, len(items))
	for _, it := range items {
		var v [2][]byte
		if firstByte(it) != '{' {
			return nil, errors.New("an item is not an object")
		}
		if err := errorPaths.Extract(it, v[:]); err != nil {
			return nil, err
		}
		var e apiErr
		e.code, _ = fields.String(v[0])
		if e.code == "" && len(v[0]) > 0 && v[0][0] >= '0' && v[0][0] <= '9' {
			e.code = string(v[0])
		}
		e.message, _ = fields.String(v[1])
		out = append(out, e)
	}
	return out, nil
}

// Retry-after delays for the error codes Marketo documents as transient.
const (
	rateLimitWait   = rateWindow      // 606: the window must slide past
	concurrencyWait = 5 * time.Second // 615: a call in flight must finish
	quotaWait       = time.Hour       // 607 daily quota, 1029 bulk quota
)

// apiError maps a Marketo error code to a typed error: 601/602 (token; the
// caller already retried with a new one), 606/615 (rate and concurrency
// limits), 607/1029 (quotas) and the documented transient failures are
// retryable; every other code is permanent. The message names the call, the
// code and Marketo's message.
func apiError(what string, e apiErr) *pluginsdk.Error {
	pe := &pluginsdk.Error{Code: "marketo_" + e.code}
	switch e.code {
	case "601", "602":
		pe.Retryable = true
	case "606":
		pe.Retryable, pe.RetryAfter = true, rateLimitWait
	case "615":
		pe.Retryable, pe.RetryAfter = true, concurrencyWait
	case "607", "1029":
		pe.Retryable, pe.RetryAfter = true, quotaWait
	case "604", "608", "611", "713":
		pe.Retryable = true
	case "":
		pe.Code = "marketo_error"
	}
	msg := e.message
	if msg == "" {
		msg = "(no message)"
	}
	pe.Message = fmt.Sprintf("%s: Marketo error %s: %s", what, e.code, msg)
	if pe.RetryAfter > 0 {
		pe.Message += fmt.Sprintf(" (retry after %s)", pe.RetryAfter)
	}
	return pe
}

// errorOf is the error of a failed response: its first error, with the
// others' codes and messages appended.
func errorOf(what string, r response) *pluginsdk.Error {
	if len(r.errs) == 0 {
		return pluginsdk.Errorf("%s: Marketo answered success=false without an error code (request %s)", what, r.requestID)
	}
	pe := apiError(what, r.errs[0])
	if len(r.errs) > 1 {
		var more []string
		for _, e := range r.errs[1:] {
			more = append(more, e.code+": "+e.message)
		}
		pe.Message += "; also " + strings.Join(more, "; ")
	}
	return pe
}

// tokenError reports whether r failed because of the access token.
func tokenError(r response) bool {
	for _, e := range r.errs {
		if e.code == "601" || e.code == "602" {
			return true
		}
	}
	return false
}

func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}

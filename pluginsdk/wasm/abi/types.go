package abi

import (
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// Each Put/Get pair below must stay symmetric; codec_test.go round-trips
// every type.

func PutError(e *Encoder, err *pluginsdk.Error) {
	e.String(err.Code)
	e.String(err.Message)
	e.Bool(err.Retryable)
	e.I64(int64(err.RetryAfter))
	e.U32(uint32(err.Status))
}

func GetError(d *Decoder) *pluginsdk.Error {
	return &pluginsdk.Error{
		Code:       d.String(),
		Message:    d.String(),
		Retryable:  d.Bool(),
		RetryAfter: time.Duration(d.I64()),
		Status:     int(d.U32()),
	}
}

func PutHTTPRequest(e *Encoder, r *pluginsdk.HTTPRequest) {
	e.String(r.Method)
	e.String(r.URL)
	e.String(r.Path)
	e.Multi(r.Query)
	e.Multi(r.Header)
	e.Bytes(r.Body)
	e.String(r.RemoteAddr)
	e.I64(int64(r.Timeout))
}

func GetHTTPRequest(d *Decoder, r *pluginsdk.HTTPRequest) {
	r.Method = d.String()
	r.URL = d.String()
	r.Path = d.String()
	r.Query = d.Multi()
	r.Header = d.Multi()
	r.Body = d.Bytes()
	r.RemoteAddr = d.String()
	r.Timeout = time.Duration(d.I64())
}

// FlatHTTPRequest is a request as GetHTTPRequestFlat decodes it: the
// request, and its headers left in the envelope as the request's
// HeaderLookup. One allocation holds both; a RawMulti stored in the lookup
// by value would take a second, and an allocation costs a Go guest about a
// quarter of a microsecond (pluginsdk/RATIONALE.md §6).
type FlatHTTPRequest struct {
	pluginsdk.HTTPRequest
	Headers RawMulti
}

// GetHTTPRequestFlat is GetHTTPRequest for a pluginsdk.FlatHeaders
// connector: the headers stay in the envelope, where HeaderValue reads them,
// instead of becoming a map. The wire is the same.
func GetHTTPRequestFlat(d *Decoder, r *FlatHTTPRequest) {
	r.Method = d.String()
	r.URL = d.String()
	r.Path = d.String()
	r.Query = d.Multi()
	if r.Headers = d.RawMulti(); len(r.Headers) > 0 {
		r.SetHeaderLookup(&r.Headers)
	}
	r.Body = d.Bytes()
	r.RemoteAddr = d.String()
	r.Timeout = time.Duration(d.I64())
}

func PutHTTPResponse(e *Encoder, r *pluginsdk.HTTPResponse) {
	e.U32(uint32(r.Status))
	e.Multi(r.Header)
	e.Bytes(r.Body)
}

func GetHTTPResponse(d *Decoder, r *pluginsdk.HTTPResponse) {
	r.Status = int(d.U32())
	r.Header = d.Multi()
	r.Body = d.Bytes()
}

func putEvents(e *Encoder, evs []pluginsdk.Event) {
	e.U32(uint32(len(evs)))
	for i := range evs {
		ev := &evs[i]
		e.Bytes(ev.Payload)
		e.String(ev.DedupKey)
		e.String(ev.Type)
		e.Time(ev.Time)
	}
}

func getEvents(d *Decoder) []pluginsdk.Event {
	n := int(d.U32())
	if d.Err() != nil || n == 0 {
		return nil
	}
	if n > len(d.Rest())/16 { // an event takes at least 20 bytes
		d.err = ErrShort
		return nil
	}
	evs := make([]pluginsdk.Event, n)
	for i := range evs {
		evs[i].Payload = d.Bytes()
		evs[i].DedupKey = d.String()
		evs[i].Type = d.String()
		evs[i].Time = d.Time()
	}
	return evs
}

func PutReceiveResult(e *Encoder, r *pluginsdk.ReceiveResult) {
	putEvents(e, r.Events)
	PutHTTPResponse(e, &r.Response)
	e.U32(uint32(len(r.Rejected)))
	for _, ie := range r.Rejected {
		e.U32(uint32(ie.Index))
		e.String(ie.Message)
	}
}

func GetReceiveResult(d *Decoder, r *pluginsdk.ReceiveResult) {
	r.Events = getEvents(d)
	GetHTTPResponse(d, &r.Response)
	n := int(d.U32())
	if n > len(d.Rest())/8 {
		d.err = ErrShort
		return
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		r.Rejected = append(r.Rejected, pluginsdk.ItemError{Index: int(d.U32()), Message: d.String()})
	}
}

func PutFetchRequest(e *Encoder, r *pluginsdk.FetchRequest) {
	e.String(r.Entity)
	e.Bytes(r.Cursor)
	e.U32(uint32(r.Limit))
}

func GetFetchRequest(d *Decoder, r *pluginsdk.FetchRequest) {
	r.Entity = d.String()
	r.Cursor = d.Bytes()
	r.Limit = int(d.U32())
}

func PutFetchResult(e *Encoder, r *pluginsdk.FetchResult) {
	putEvents(e, r.Events)
	e.Bytes(r.Cursor)
	e.Bool(r.More)
}

func GetFetchResult(d *Decoder, r *pluginsdk.FetchResult) {
	r.Events = getEvents(d)
	r.Cursor = d.Bytes()
	r.More = d.Bool()
}

func PutPerformRequest(e *Encoder, r *pluginsdk.PerformRequest) {
	e.String(r.Action)
	e.Bytes(r.Input)
	e.String(r.IdempotencyKey)
	e.U32(uint32(r.Attempt))
}

func GetPerformRequest(d *Decoder, r *pluginsdk.PerformRequest) {
	r.Action = d.String()
	r.Input = d.Bytes()
	r.IdempotencyKey = d.String()
	r.Attempt = int(d.U32())
}

func PutPerformResult(e *Encoder, r *pluginsdk.PerformResult) {
	e.Bytes(r.Output)
}

func GetPerformResult(d *Decoder, r *pluginsdk.PerformResult) {
	r.Output = d.Bytes()
}

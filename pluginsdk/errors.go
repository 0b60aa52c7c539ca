package pluginsdk

import (
	"errors"
	"fmt"
	"time"
)

// Error is the typed error that crosses every connector boundary (native,
// Wasm, go-plugin). Retryable tells the workflow engine whether to try the
// task again; RetryAfter, when set, is the earliest time to do so.
type Error struct {
	Code       string        `json:"code,omitempty"`
	Message    string        `json:"message"`
	Retryable  bool          `json:"retryable,omitempty"`
	RetryAfter time.Duration `json:"retryAfter,omitempty"`
	// Status is an HTTP status to answer an inbound caller with (Receive only).
	Status int `json:"status,omitempty"`
}

func (e *Error) Error() string {
	if e.Code != "" {
		return e.Code + ": " + e.Message
	}
	return e.Message
}

// Errorf returns a permanent (non-retryable) error.
func Errorf(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

// Retryable returns an error the engine retries with backoff.
func Retryable(format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...), Retryable: true}
}

// BadRequest is a Receive error answered with HTTP 400 and nothing stored.
func BadRequest(format string, args ...any) *Error {
	return &Error{Code: "bad_request", Message: fmt.Sprintf(format, args...), Status: 400}
}

// Unauthorized is a Receive error answered with HTTP 401 and nothing stored.
func Unauthorized(format string, args ...any) *Error {
	return &Error{Code: "unauthorized", Message: fmt.Sprintf(format, args...), Status: 401}
}

// AsError converts any error into *Error. An error that is not already an
// *Error is treated as retryable: an unknown failure (a network fault, a
// crashed plugin) is more often transient than not, and a retry is bounded.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Message: err.Error(), Retryable: true}
}

// IsRetryable reports whether err should be retried.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	return AsError(err).Retryable
}

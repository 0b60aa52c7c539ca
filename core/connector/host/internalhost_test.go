package host

import "testing"

func TestInternalHost(t *testing.T) {
	tests := []struct {
		entry, want string
	}{
		{"127.0.0.1", "loopback"},
		{"127.0.0.1:8080", "loopback"},
		{"[::1]:9000", "loopback"},
		{"::1", "loopback"},
		{"[::ffff:127.0.0.1]", "loopback"},
		{"localhost:3000", "loopback"},
		{"LocalHost.", "loopback"},
		{"api.localhost", "loopback"},
		{"*.localhost", "loopback"},
		{"10.1.2.3", "private"},
		{"192.168.0.10:443", "private"},
		{"169.254.169.254", "link-local"},
		{"100.64.0.1", "shared (CGNAT)"},
		{"0.0.0.0", "unspecified"},
		{"8.8.8.8", ""},
		{"[2001:4860::8888]:443", ""},
		{"api.example.com", ""},
		{"*.example.com:8443", ""},
		{"*", ""},
		{"http://127.0.0.1", ""}, // malformed: ValidateAllowHost reports it
	}
	for _, tt := range tests {
		if got := InternalHost(tt.entry); got != tt.want {
			t.Errorf("InternalHost(%q) = %q, want %q", tt.entry, got, tt.want)
		}
	}
}

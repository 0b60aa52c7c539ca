package host

import (
	"net"
	"net/netip"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		addr string
		want addrClass
	}{
		// IPv4
		{"8.8.8.8", classPublic},
		{"93.184.216.34", classPublic},
		{"127.0.0.1", classLoopback},
		{"127.255.255.254", classLoopback},
		{"10.0.0.1", classPrivate},
		{"172.16.0.1", classPrivate},
		{"172.31.255.255", classPrivate},
		{"172.32.0.1", classPublic},
		{"192.168.1.1", classPrivate},
		{"169.254.169.254", classLinkLocal}, // cloud metadata
		{"169.254.0.1", classLinkLocal},
		{"0.0.0.0", classUnspecified},
		{"0.1.2.3", classReserved},
		{"224.0.0.1", classMulticast},
		{"239.255.255.250", classMulticast},
		{"100.64.0.1", classCGNAT},
		{"100.127.255.255", classCGNAT},
		{"100.128.0.1", classPublic},
		{"255.255.255.255", classReserved},
		{"240.0.0.1", classReserved},
		{"198.18.0.1", classReserved},
		{"192.0.0.8", classReserved},
		// IPv6
		{"2606:4700:4700::1111", classPublic},
		{"::1", classLoopback},
		{"::", classUnspecified},
		{"fc00::1", classPrivate},
		{"fd12:3456:789a::1", classPrivate},
		{"fe80::1", classLinkLocal},
		{"fe80::1%eth0", classLinkLocal},
		{"ff02::1", classMulticast},
		{"ff05::2", classMulticast},
		{"100::1", classReserved},
		// IPv4 inside IPv6
		{"::ffff:127.0.0.1", classLoopback},
		{"::ffff:10.1.2.3", classPrivate},
		{"::ffff:169.254.169.254", classLinkLocal},
		{"::ffff:8.8.8.8", classPublic},
		{"64:ff9b::a9fe:a9fe", classLinkLocal}, // NAT64 of 169.254.169.254
		{"64:ff9b::808:808", classPublic},      // NAT64 of 8.8.8.8
		{"2002:7f00:1::", classLoopback},       // 6to4 of 127.0.0.1
		{"2002:808:808::1", classPublic},       // 6to4 of 8.8.8.8
		{"::7f00:1", classLoopback},            // IPv4-compatible 127.0.0.1
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.addr)
			if got := classify(ip); got != tt.want {
				t.Errorf("classify(%s) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestAllowList(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		host    string
		want    bool
	}{
		{"port pinned matches", []string{"api.example.com:8443"}, "api.example.com:8443", true},
		{"port pinned other port", []string{"api.example.com:8443"}, "api.example.com:443", false},
		{"no port in entry matches any port", []string{"api.example.com"}, "api.example.com:8443", true},
		{"wildcard with port", []string{"*.example.com:443"}, "a.example.com:443", true},
		{"ipv6 with port", []string{"[2001:db8::1]:8443"}, "[2001:db8::1]:8443", true},
		{"ipv6 with port, other port", []string{"[2001:db8::1]:8443"}, "[2001:db8::1]:443", false},
		{"empty allows any", nil, "api.example.com", true},
		{"exact", []string{"api.example.com"}, "api.example.com", true},
		{"exact is case-insensitive", []string{"API.Example.com"}, "api.EXAMPLE.com", true},
		{"exact with trailing dot", []string{"api.example.com"}, "api.example.com.", true},
		{"exact does not match subdomain", []string{"example.com"}, "api.example.com", false},
		{"exact does not match other", []string{"api.example.com"}, "evil.example", false},
		{"wildcard matches one label", []string{"*.example.com"}, "api.example.com", true},
		{"wildcard matches deeper", []string{"*.example.com"}, "a.b.example.com", true},
		{"wildcard does not match apex", []string{"*.example.com"}, "example.com", false},
		{"wildcard needs a dot boundary", []string{"*.example.com"}, "evilexample.com", false},
		{"wildcard does not match suffix trick", []string{"*.example.com"}, "example.com.evil.net", false},
		{"star allows any", []string{"*"}, "anything.example", true},
		{"ip literal", []string{"203.0.113.7"}, "203.0.113.7", true},
		{"ipv6 literal with brackets", []string{"[2001:db8::1]"}, "2001:db8::1", true},
		{"second entry", []string{"a.example", "b.example"}, "b.example", true},
		{"invalid only fails closed", []string{"https://api.example.com"}, "api.example.com", false},
		{"invalid entry ignored", []string{"api.example.com:0", "api.example.com"}, "api.example.com:443", true},
		{"mid wildcard invalid", []string{"api.*.com"}, "api.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host, port := tt.host, "443"
			if h, p, err := net.SplitHostPort(tt.host); err == nil {
				host, port = h, p
			}
			if got := newAllowList(tt.entries).allows(host, port); got != tt.want {
				t.Errorf("allow-list %q allows(%q) = %v, want %v", tt.entries, tt.host, got, tt.want)
			}
		})
	}
}

func TestValidateAllowHost(t *testing.T) {
	tests := []struct {
		entry string
		ok    bool
	}{
		{"api.example.com", true},
		{"*.example.com", true},
		{"*", true},
		{"10.1.2.3", true},
		{"2001:db8::1", true},
		{"[2001:db8::1]", true},
		{"", false},
		{"https://api.example.com", false},
		{"api.example.com:443", true},
		{"[2001:db8::1]:443", true},
		{"api.example.com:0", false},
		{"api.example.com:99999", false},
		{"api.example.com:https", false},
		{"2001:db8::1:", false},
		{"api.example.com/path", false},
		{"*.", false},
		{"*.*.example.com", false},
		{"api*.example.com", false},
		{"user@example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			err := ValidateAllowHost(tt.entry)
			if (err == nil) != tt.ok {
				t.Errorf("ValidateAllowHost(%q) = %v, want ok=%v", tt.entry, err, tt.ok)
			}
		})
	}
}

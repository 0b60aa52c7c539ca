package config

import (
	"bytes"
	"crypto/x509"
	"reflect"
)

// SameConnection reports whether two connections are configured alike:
// every key equal, wherever in their files they are written. A hot reload
// keeps an unchanged connection open (its plugin instances, its pooled
// sessions) and reopens a changed one.
func SameConnection(a, b *Connection) bool {
	if a == nil || b == nil {
		return a == b
	}
	return equalIgnoringPos(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem())
}

// SameDoc reports whether two decoded documents of a kind without
// compiled parts (Directory, Survey) are alike, wherever they are written.
func SameDoc[T any](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return equalIgnoringPos(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem())
}

// settingsFieldKeys names each Settings field by its YAML key.
var settingsFieldKeys = map[string]string{
	"Addr": "addr", "DataDir": "data_dir", "PublicURL": "public_url", "Timezone": "timezone",
	"MaxBodyBytes": "max_body_bytes", "PluginDirs": "plugin_dirs", "TrustedKeys": "trusted_keys",
	"RequireSignatures": "require_signatures", "Workers": "workers", "Retry": "retry", "TLS": "tls",
	"TrustedProxies": "trusted_proxies", "Retention": "retention", "MemoryLimit": "memory_limit",
	"Store": "store",
}

// SettingsChanges lists the Settings keys whose values differ between a
// and b, in declaration order.
func SettingsChanges(a, b Settings) []string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var out []string
	for i := range va.NumField() {
		f := va.Type().Field(i)
		if f.Type == posType {
			continue
		}
		// A field added without a key here is still compared, so a new
		// restart-only setting can never change silently on a reload.
		key, ok := settingsFieldKeys[f.Name]
		if !ok {
			key = f.Name
		}
		if !equalIgnoringPos(va.Field(i), vb.Field(i)) {
			out = append(out, key)
		}
	}
	return out
}

var (
	posType      = reflect.TypeFor[Pos]()
	certPoolType = reflect.TypeFor[*x509.CertPool]()
	certsType    = reflect.TypeFor[[]*x509.Certificate]()
)

// equalIgnoringPos is reflect.DeepEqual that skips positions (a document
// moved in its file is the same configuration) and compares certificates
// by their bytes (a CertPool holds functions, which DeepEqual never finds
// equal; its certificates are compared through ClientCACerts).
func equalIgnoringPos(a, b reflect.Value) bool {
	t := a.Type()
	switch {
	case t == posType, t == certPoolType:
		return true
	case t == certsType:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			ca, cb := a.Index(i).Interface().(*x509.Certificate), b.Index(i).Interface().(*x509.Certificate)
			if (ca == nil) != (cb == nil) || ca != nil && !bytes.Equal(ca.Raw, cb.Raw) {
				return false
			}
		}
		return true
	}
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if !equalIgnoringPos(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Kind() == reflect.Interface && a.Elem().Type() != b.Elem().Type() {
			return false
		}
		return equalIgnoringPos(a.Elem(), b.Elem())
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !equalIgnoringPos(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if t.Elem() == posType {
			return true
		}
		if a.Len() != b.Len() {
			return false
		}
		it := a.MapRange()
		for it.Next() {
			vb := b.MapIndex(it.Key())
			if !vb.IsValid() || !equalIgnoringPos(it.Value(), vb) {
				return false
			}
		}
		return true
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float()
	case reflect.String:
		return a.String() == b.String()
	}
	// Functions and channels are never configuration.
	return false
}

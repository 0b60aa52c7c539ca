package fields

import (
	"bytes"
	"time"
)

// Time decodes a raw JSON string holding an RFC 3339 timestamp, with the
// result and the acceptance of time.Parse(time.RFC3339Nano, s). The form
// every SDK sends, UTC with up to nine fraction digits
// ("2026-03-02T10:15:01.400Z"), is read in place, with neither the string
// String would allocate nor time.Parse's work: in a Go guest each costs
// about as much as the rest of reading a field. Anything else (an offset,
// escapes, an out-of-range day) goes through String and time.Parse. ok is
// false when raw is not a string or not a timestamp.
func Time(raw []byte) (t time.Time, ok bool) {
	if t, ok := utcTime(raw); ok {
		return t, true
	}
	s, ok := String(raw)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// utcTime reads "YYYY-MM-DDTHH:MM:SS[.F{1,9}]Z" in quotes; ok is false for
// anything else, including values time.Parse would refuse.
func utcTime(raw []byte) (time.Time, bool) {
	if len(raw) < 22 || raw[0] != '"' || raw[len(raw)-1] != '"' || raw[len(raw)-2] != 'Z' {
		return time.Time{}, false
	}
	s := raw[1 : len(raw)-2] // without the quotes and the Z
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(time.Month(month), year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := s[19:]; len(frac) > 0 {
		digits := frac[1:]
		if frac[0] != '.' || len(digits) < 1 || len(digits) > 9 || bytes.IndexByte(digits, '"') >= 0 {
			return time.Time{}, false
		}
		n, ok := num(digits)
		if !ok {
			return time.Time{}, false
		}
		for range 9 - len(digits) {
			n *= 10
		}
		nsec = n
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

func daysIn(m time.Month, year int) int {
	if m == time.February {
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31 - int(m-1)%7%2
}

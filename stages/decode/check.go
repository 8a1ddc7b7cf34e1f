package decode

import (
	"strconv"

	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/schemas"
)

// check keeps the first reason an event is invalid. One reason is enough to
// dead-letter the event and to fix the producer; reasons are built only on failure,
// so valid events cost no allocation here.
type check struct{ reason string }

func (c *check) fail(reason string) {
	if c.reason == "" {
		c.reason = reason
	}
}

// bsuid returns v if it is empty or a well-formed BSUID, and fails naming field otherwise.
func (c *check) bsuid(field, v string) string {
	if v != "" && !validBSUID(v) {
		c.fail(field + " " + quote(v) + " is not a BSUID (two capital letters, '.', optional 'ENT.', 1-128 letters or digits)")
		return ""
	}
	return v
}

// phone returns v if it is empty or digits only, and fails naming field otherwise.
func (c *check) phone(field, v string) string {
	if v != "" && !allDigits(v) {
		c.fail(field + " " + quote(v) + " is not a phone number (digits only)")
		return ""
	}
	return v
}

// cardPhone is a phone as a user typed it on a shared contact card: "+", spaces,
// dashes and parentheses are dropped, anything else that is not a digit fails.
func (c *check) cardPhone(field, v string) string {
	if allDigits(v) {
		return v
	}
	digits, ok := model.PhoneDigits(v)
	if !ok {
		c.fail(field + " " + quote(v) + " is not a phone number")
		return ""
	}
	return digits
}

// time parses unix seconds sent as a string or a number. Zero, negative or
// values past 2106 (the end of ClickHouse DateTime) are rejected rather than
// written as nonsense dates. A missing optional time is 0.
func (c *check) time(field string, n schemas.Number, required bool) int64 {
	if n == "" {
		if required {
			c.fail("missing " + field)
		}
		return 0
	}
	t, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || t <= 0 || t > 1<<32-1 {
		c.fail(field + " " + quote(string(n)) + " is not unix seconds")
		return 0
	}
	return t
}

// duration parses call seconds sent as a string or a number.
func (c *check) duration(field string, n schemas.Number) uint32 {
	if n == "" {
		return 0
	}
	d, err := strconv.ParseUint(string(n), 10, 32)
	if err != nil {
		c.fail(field + " " + quote(string(n)) + " is not whole seconds")
		return 0
	}
	return uint32(d)
}

// errorCode is errors[0].code, the first error being the one Meta reports.
func (c *check) errorCode(field string, errs []schemas.Error) *int32 {
	if len(errs) == 0 || errs[0].Code == "" {
		return nil
	}
	v, err := strconv.ParseInt(string(errs[0].Code), 10, 32)
	if err != nil {
		c.fail(field + " " + quote(string(errs[0].Code)) + " is not an integer error code")
		return nil
	}
	code := int32(v)
	return &code
}

// validBSUID reports whether s matches ^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$
// (contract section 6), without the cost of a regexp.
func validBSUID(s string) bool {
	if len(s) < 4 || !isUpper(s[0]) || !isUpper(s[1]) || s[2] != '.' {
		return false
	}
	rest := s[3:]
	if len(rest) > 4 && rest[:4] == "ENT." {
		rest = rest[4:]
	}
	if len(rest) > 128 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !isUpper(c) && !isDigit(c) && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// quote renders a wire value inside a reason, cut short so that a hostile body
// cannot make reasons (and dead-letter headers) arbitrarily long.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}

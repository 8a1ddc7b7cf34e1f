package model

import "strings"

// PhoneDigits is a phone as people write it ("+57 301-555-0142", "(301) 555 0142") in the
// form wapipe stores (contract section 6: digits only): "+", spaces, dashes and
// parentheses are dropped. ok is false when anything else that is not a digit is left,
// or no digit at all.
func PhoneDigits(s string) (digits string, ok bool) {
	digits = strings.Map(func(r rune) rune {
		switch r {
		case '+', ' ', '-', '(', ')':
			return -1
		}
		return r
	}, s)
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return "", false
		}
	}
	return digits, digits != ""
}

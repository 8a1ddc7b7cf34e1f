package deadletter

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxErrorBytes caps x-wapipe-error (contract section 10).
const MaxErrorBytes = 4096

// ErrorHeader joins reasons with "; ", keeping whole reasons of the first events while they fit
// in MaxErrorBytes, then "... and N more". The result is never over MaxErrorBytes and valid UTF-8
// stays valid.
func ErrorHeader(reasons ...string) string {
	var b strings.Builder
	for i, r := range reasons {
		sep := ""
		if i > 0 {
			sep = "; "
		}
		rest := len(reasons) - i - 1
		tail := ""
		if rest > 0 {
			tail = "; ... and " + strconv.Itoa(rest) + " more"
		}
		if b.Len()+len(sep)+len(r)+len(tail) <= MaxErrorBytes {
			b.WriteString(sep + r)
			continue
		}
		more := "... and " + strconv.Itoa(len(reasons)-i) + " more"
		if b.Len() > 0 {
			more = "; " + more
		}
		if b.Len() == 0 { // a single reason too long: cut it on a rune boundary
			room := MaxErrorBytes - len(more) - 2
			r = cut(r, room)
			if r != "" {
				b.WriteString(r)
				more = "; " + more
			}
		}
		for b.Len()+len(more) > MaxErrorBytes { // cannot happen with the checks above; be safe
			return cut(b.String(), MaxErrorBytes-len(more)) + more
		}
		b.WriteString(more)
		return b.String()
	}
	return b.String()
}

// capReason caps a reason already joined with "; ".
func capReason(s string) string {
	if len(s) <= MaxErrorBytes {
		return s
	}
	return ErrorHeader(strings.Split(s, "; ")...)
}

func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

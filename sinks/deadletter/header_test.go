package deadletter

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestErrorHeaderCap(t *testing.T) {
	var rs []string
	for i := 0; i < 5000; i++ {
		rs = append(rs, fmt.Sprintf("event %d: missing from", i))
	}
	h := ErrorHeader(rs...)
	if len(h) > MaxErrorBytes || !strings.HasPrefix(h, "event 0: missing from; event 1:") || !strings.Contains(h, " more") {
		t.Fatalf("len %d: %q", len(h), h)
	}
	if got := capReason(strings.Join(rs, "; ")); got != h {
		t.Fatalf("capReason differs")
	}
}

func FuzzErrorHeader(f *testing.F) {
	f.Add("a", 3, 5000)
	f.Add("é", 1, 5000)
	f.Fuzz(func(t *testing.T, r string, n, size int) {
		n, size = (n%50+50)%50+1, size%20000
		if size < 0 {
			size = -size
		}
		rs := make([]string, n)
		for i := range rs {
			rs[i] = strings.Repeat(r, size/max(len(r), 1)/n+1)
		}
		h := ErrorHeader(rs...)
		if len(h) > MaxErrorBytes {
			t.Fatalf("len %d", len(h))
		}
		if utf8.ValidString(r) && !utf8.ValidString(h) {
			t.Fatalf("invalid utf8")
		}
	})
}

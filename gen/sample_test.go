package gen

import (
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// sampled is one stream run through the recount, with everything the tests look at.
type sampled struct {
	gen, got Expected
	errs     []string
	feature  map[string]int
	kinds    map[string]int // bodies by what their first change carries
}

// sample is the shared 20,000-body stream (2% poison), generated once.
var sample = sync.OnceValue(func() *sampled {
	return run(Config{Seed: 42, Webhooks: 20000, PoisonRate: 0.02})
})

// run generates cfg's stream and recounts it from the bytes alone.
func run(cfg Config) *sampled {
	g := New(cfg)
	r := newRecount()
	s := &sampled{kinds: map[string]int{}}
	seen := map[[32]byte]bool{}
	fail := func(format string, a ...any) {
		if len(s.errs) < 20 {
			s.errs = append(s.errs, fmt.Sprintf(format, a...))
		}
	}
	for i := 0; ; i++ {
		b, ok := g.Next()
		if !ok {
			break
		}
		s.got.Bodies++
		sum := sha256.Sum256(b.Value)
		switch {
		case b.Duplicate && !seen[sum]:
			fail("body %d: marked duplicate but no earlier body has its bytes", i)
		case b.Duplicate && b.Poison != "":
			fail("body %d: poison re-delivered", i)
		case !b.Duplicate && seen[sum]:
			fail("body %d: an undeclared byte-for-byte duplicate", i)
		}
		seen[sum] = true
		if b.Duplicate {
			s.got.Duplicates++
		}
		r.again = false
		if dead := r.add(b.Value); dead != (b.Poison != "") {
			fail("body %d: dead-letter %v but Poison %q: %s", i, dead, b.Poison, b.Value)
		} else if dead {
			s.got.DeadLetters++
		}
		if r.again && !b.Duplicate {
			s.got.Rebatched++
		}
		if b.Poison != "" {
			r.feature["poison "+b.Poison]++
			continue
		}
		if want := firstPNID(b.Value); string(b.Key) != want {
			fail("body %d: key %q, first phone_number_id %q", i, b.Key, want)
		}
		if !b.Duplicate {
			s.kinds[bodyKind(b.Value)]++
		}
	}
	s.gen = g.Expected()
	e := r.expected()
	e.Bodies, e.Duplicates, e.Rebatched, e.DeadLetters = s.got.Bodies, s.got.Duplicates, s.got.Rebatched, s.got.DeadLetters
	s.got, s.feature = e, r.feature
	return s
}

func (r *recount) expected() Expected {
	e := Expected{InboundMessages: len(r.inbound), OutboundMessages: len(r.outbound), UsageRows: len(r.usage),
		Calls: len(r.calls), CallSeconds: r.seconds, IdentityChanges: len(r.system), Referrals: len(r.refs),
		ContactRequests: len(r.shares)}
	e.ChatRows, e.VoiceRows = e.InboundMessages+e.OutboundMessages, e.Calls
	roots := map[string]bool{}
	for k := range r.parent {
		roots[r.find(k)] = true
	}
	leads := map[[2]string]bool{}
	for _, l := range r.leads {
		leads[[2]string{r.find(l[0]), l[1]}] = true
	}
	e.Contacts, e.Leads = len(roots), len(leads)
	for _, rk := range r.rank {
		switch rk {
		case 1:
			e.OutboundSent++
		case 2:
			e.OutboundDelivered++
		case 3:
			e.OutboundRead++
		case 4:
			e.OutboundFailed++
		}
	}
	return e
}

// diff lists the fields where two Expected differ.
func diff(got, want Expected) []string {
	var out []string
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := 0; i < gv.NumField(); i++ {
		if g, w := gv.Field(i).Interface(), wv.Field(i).Interface(); g != w {
			out = append(out, fmt.Sprintf("%s: recount %v, generator %v", gv.Type().Field(i).Name, g, w))
		}
	}
	return out
}

func firstPNID(body []byte) string {
	const k = `"phone_number_id":"`
	s := string(body)
	i := strings.Index(s, k)
	if i < 0 {
		return ""
	}
	s = s[i+len(k):]
	return s[:strings.IndexByte(s, '"')]
}

// bodyKind names what a body's first change carries, for the traffic mix.
func bodyKind(body []byte) string {
	s := string(body)
	switch {
	case strings.Contains(s, `"type":"system"`):
		return "identity"
	case strings.Contains(s, `"field":"calls"`):
		return "call"
	case strings.Contains(s, `"statuses":[`):
		return "status"
	}
	return "inbound"
}

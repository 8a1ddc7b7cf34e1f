package gen

import (
	"bytes"
	"strings"
	"testing"
)

func TestExpectedMatchesRecount(t *testing.T) {
	s := sample()
	for _, e := range s.errs {
		t.Error(e)
	}
	for _, d := range diff(s.got, s.gen) {
		t.Error(d)
	}
	t.Logf("%+v", s.gen)
	if s.gen.Bodies != 20000 || s.gen.DeadLetters == 0 || s.gen.Leads == 0 || s.gen.Contacts == 0 {
		t.Errorf("implausible counts: %+v", s.gen)
	}
}

// Tiny and odd configurations take the generator's fallback paths; counts must hold there too.
func TestSmallConfigsMatchRecount(t *testing.T) {
	for _, cfg := range []Config{
		{Webhooks: 0}, {Webhooks: 1}, {Seed: 2, Webhooks: 300, Users: 1, Businesses: 1},
		{Seed: 3, Webhooks: 500, Users: 2, PoisonRate: 0.2}, {Seed: 4, Webhooks: 3000, Users: 3, Businesses: 7},
		{Seed: 5, Webhooks: 2000, Users: 5000, DuplicateRate: -1, PoisonRate: 1},
	} {
		s := run(cfg)
		for _, e := range append(s.errs, diff(s.got, s.gen)...) {
			t.Errorf("%+v: %s", cfg, e)
		}
		if s.gen.Bodies != cfg.Webhooks {
			t.Errorf("%+v: %d bodies", cfg, s.gen.Bodies)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b, c := New(Config{Seed: 7, Webhooks: 5000, PoisonRate: 0.05}), New(Config{Seed: 7, Webhooks: 5000, PoisonRate: 0.05}), New(Config{Seed: 8, Webhooks: 5000, PoisonRate: 0.05})
	same := 0
	for i := 0; ; i++ {
		x, ok1 := a.Next()
		y, ok2 := b.Next()
		z, _ := c.Next()
		if ok1 != ok2 {
			t.Fatalf("body %d: streams end differently", i)
		}
		if !ok1 {
			break
		}
		if !bytes.Equal(x.Value, y.Value) || !bytes.Equal(x.Key, y.Key) || x.Duplicate != y.Duplicate || x.Poison != y.Poison {
			t.Fatalf("body %d differs for the same seed:\n%s\n%s", i, x.Value, y.Value)
		}
		if bytes.Equal(x.Value, z.Value) {
			same++
		}
	}
	if a.Expected() != b.Expected() {
		t.Errorf("Expected differs for the same seed")
	}
	if same > 0 {
		t.Errorf("%d bodies equal across seeds 7 and 8", same)
	}
}

func TestDuplicateRate(t *testing.T) {
	for _, rate := range []float64{-1, 0.05, 0.10, 0.30} {
		g := New(Config{Seed: 9, Webhooks: 20000, DuplicateRate: rate})
		for _, ok := g.Next(); ok; _, ok = g.Next() {
		}
		want := max(rate, 0)
		if got := float64(g.Expected().Duplicates) / 20000; got < want*0.85 || got > want*1.1 {
			t.Errorf("DuplicateRate %v: %.3f of bodies are duplicates", rate, got)
		}
	}
	if s := sample(); s.gen.Rebatched == 0 {
		t.Error("no message re-sent inside a different batch")
	}
}

func TestTrafficMix(t *testing.T) {
	s := sample()
	n := float64(s.gen.Bodies - s.gen.Duplicates - s.gen.DeadLetters)
	for kind, want := range map[string][2]float64{"inbound": {0.42, 0.52}, "status": {0.37, 0.47},
		"call": {0.08, 0.12}, "identity": {0.005, 0.02}} {
		if got := float64(s.kinds[kind]) / n; got < want[0] || got > want[1] {
			t.Errorf("%s bodies: %.3f of original bodies, want %.3f-%.3f", kind, got, want[0], want[1])
		}
	}
}

func TestAllKindsPresent(t *testing.T) {
	s := sample()
	want := []string{
		"message:text", "message:image", "message:location", "message:interactive", "message:reaction",
		"message:contacts", "contacts origin contact_request", "contacts origin other", "referral without ctwa_clid",
		"system:user_changed_number", "system:user_changed_user_id",
		"status:sent", "status:delivered", "status:read", "status:failed",
		"read before delivered", "delivered before sent",
		"pricing:marketing/regular", "pricing:utility/regular", "pricing:authentication/regular",
		"pricing:authentication-international/regular", "pricing:service/free_customer_service",
		"pricing:utility/free_customer_service", "pricing:referral_conversion/free_entry_point",
		"call:USER_INITIATED:connect:", "call:USER_INITIATED:terminate:COMPLETED", "call:USER_INITIATED:terminate:FAILED",
		"call:BUSINESS_INITIATED:terminate:COMPLETED", "call:BUSINESS_INITIATED:terminate:FAILED",
		"callstatus:RINGING", "callstatus:ACCEPTED", "callstatus:REJECTED",
		"batch", "contacts reordered", "several changes", "legacy phone only", "phone hidden",
		"phone and BSUID", "username", "parent BSUID", "failed to phone only", "failed to BSUID only",
		"poison " + PoisonTruncated, "poison " + PoisonBadUTF8, "poison " + PoisonWrongType,
		"poison " + PoisonNotWhatsApp, "poison " + PoisonBadBSUID,
	}
	for _, f := range want {
		if s.feature[f] == 0 {
			t.Errorf("no %q in 20,000 bodies", f)
		}
	}
	tenants := 0
	for f := range s.feature {
		if strings.HasPrefix(f, "tenant ") {
			tenants++
		}
	}
	if tenants != 2 {
		t.Errorf("%d tenants, want 2 (3 businesses under 2 WABAs)", tenants)
	}
}

// shape records what a body shows beyond its events, for TestAllKindsPresent.
func (r *recount) shape(h *hook) {
	changes := 0
	for _, e := range h.Entry {
		r.feature["tenant "+e.ID]++
		for _, c := range e.Changes {
			changes++
			v := &c.Value
			var order []string
			for _, m := range v.Messages {
				order = append(order, m.FromUserID)
				switch {
				case m.System != nil:
				case m.FromUserID == "":
					r.feature["legacy phone only"]++
				case m.From == "":
					r.feature["phone hidden"]++
				default:
					r.feature["phone and BSUID"]++
				}
			}
			for _, s := range v.Statuses {
				order = append(order, s.RecipientUserID)
				if s.Status == "failed" && s.RecipientUserID == "" {
					r.feature["failed to phone only"]++
				} else if s.Status == "failed" {
					r.feature["failed to BSUID only"]++
				}
			}
			var cts []string
			for _, ct := range v.Contacts {
				cts = append(cts, ct.UserID)
				if ct.Profile.Username != "" {
					r.feature["username"]++
				}
				if ct.Parent != "" {
					r.feature["parent BSUID"]++
				}
			}
			if len(order) > 1 {
				r.feature["batch"]++
			}
			if len(cts) > 1 && strings.Join(cts, ",") != strings.Join(order, ",") {
				r.feature["contacts reordered"]++
			}
		}
	}
	if changes > 1 {
		r.feature["several changes"]++
	}
}

package decode

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"unsafe"

	"github.com/wapipe/wapipe/schemas"
)

func TestValidBSUID(t *testing.T) {
	for s, want := range map[string]bool{
		"US.13491208655302741918":     true,
		"US.ENT.11815799212886844830": true,
		"CO.abcXYZ09":                 true,
		"US.ENT":                      true, // "ENT" is itself 3 alphanumerics
		"US.1":                        true,
		"US." + string(bytes.Repeat([]byte("9"), 128)):     true,
		"US." + string(bytes.Repeat([]byte("9"), 129)):     false,
		"US.ENT." + string(bytes.Repeat([]byte("9"), 128)): true,
		"us.13491208655302741918":                          false,
		"U.1":                                              false,
		"USA.1":                                            false,
		"US.":                                              false,
		"US.ENT.":                                          false,
		"US.ENT..1":                                        false,
		"US.12-34":                                         false,
		"US.12 34":                                         false,
		"US.١٢":                                            false, // non-ASCII digits
		"":                                                 false,
		"13491208655302741918":                             false,
	} {
		if got := validBSUID(s); got != want {
			t.Errorf("validBSUID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestCheckPhones(t *testing.T) {
	var c check
	if got := c.cardPhone("p", "+57 (301) 555-0199"); got != "573015550199" || c.reason != "" {
		t.Errorf("cardPhone = %q, %q", got, c.reason)
	}
	if got := c.phone("from", "573015550199"); got != "573015550199" || c.reason != "" {
		t.Errorf("phone = %q, %q", got, c.reason)
	}
	for _, bad := range []string{"+573015550199", "57 301", "ext. 12", "５７"} {
		c = check{}
		if c.phone("from", bad); c.reason == "" {
			t.Errorf("phone(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"+", "call me", "+57 301 555 0199 ext 2", "57.301"} {
		c = check{}
		if c.cardPhone("p", bad); c.reason == "" {
			t.Errorf("cardPhone(%q) accepted", bad)
		}
	}
}

func TestCheckTime(t *testing.T) {
	for in, want := range map[schemas.Number]int64{"1781004601": 1781004601, "4294967295": 4294967295} {
		var c check
		if got := c.time("t", in, true); got != want || c.reason != "" {
			t.Errorf("time(%q) = %d, %q", in, got, c.reason)
		}
	}
	for _, bad := range []schemas.Number{"", "0", "-5", "4294967296", "1.5", "1e9", "x"} {
		var c check
		if c.time("t", bad, true); c.reason == "" {
			t.Errorf("time(%q) accepted", bad)
		}
	}
	var c check
	if got := c.time("t", "", false); got != 0 || c.reason != "" {
		t.Errorf("optional empty time = %d, %q", got, c.reason)
	}
}

// TestSlowPathAgrees decodes every golden input through the slow path too: the
// two paths must give the same result, so that which one ran never shows.
func TestSlowPathAgrees(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join(webhookDir, "*.json"))
	d := New(Config{TenantOf: testTenants})
	for _, in := range inputs {
		body, _ := os.ReadFile(in)
		fastEvents, fastInvalid, fastErr := d.Decode(body)
		b := builder{d: d}
		slowErr := b.slow(string(body))
		if (fastErr == nil) != (slowErr == nil) {
			t.Errorf("%s: fast error %v, slow error %v", in, fastErr, slowErr)
			continue
		}
		if fastErr != nil {
			continue
		}
		if len(fastEvents) != len(b.events) || (len(fastEvents) > 0 && !reflect.DeepEqual(fastEvents, b.events)) {
			t.Errorf("%s: events differ\nfast %+v\nslow %+v", in, fastEvents, b.events)
		}
		if !reflect.DeepEqual(fastInvalid, b.invalid) {
			t.Errorf("%s: invalid differ\nfast %v\nslow %v", in, fastInvalid, b.invalid)
		}
	}
}

func TestEventsDoNotAliasBody(t *testing.T) {
	body, _ := os.ReadFile(filepath.Join(webhookDir, "inbound-text-phone-and-bsuid.json"))
	events, _, err := New(Config{}).Decode(body)
	if err != nil || len(events) != 1 {
		t.Fatal(err)
	}
	before := events[0]
	for i := range body {
		body[i] = 'x'
	}
	if !reflect.DeepEqual(before, events[0]) || events[0].User.BSUID != "CO.18830092211746650031" {
		t.Fatalf("event changed with the caller's buffer: %+v", events[0])
	}
}

func TestStatsAndUnknown(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	d := New(Config{OnUnknown: func(what, value string) {
		mu.Lock()
		seen[what+"="+value]++
		mu.Unlock()
	}})
	for _, name := range []string{"inbound-multi-entry-and-unknown-field", "invalid-wrong-types-slow-path", "bad-not-json", "inbound-batch-every-type"} {
		body, _ := os.ReadFile(filepath.Join(webhookDir, name+".json"))
		d.Decode(body)
	}
	want := map[string]int{
		"field=user_preferences": 2, "field=message_template_status_update": 1,
		"status=deleted": 1, "message_type=poll_vote": 1,
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("OnUnknown saw %v, want %v", seen, want)
	}
	got := d.Stats()
	if got.Bodies != 4 || got.Rejected != 1 || got.Slow != 2 || got.Events != 3+4+21 || got.Invalid != 7 || got.Unknown != 5 {
		t.Errorf("stats = %+v", got)
	}
}

// TestConcurrentDecode runs one Decoder from several goroutines (go test -race).
func TestConcurrentDecode(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join(webhookDir, "*.json"))
	d := New(Config{TenantOf: testTenants})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for _, in := range inputs {
				body, _ := os.ReadFile(in)
				d.Decode(body)
			}
		})
	}
	wg.Wait()
	if got := d.Stats().Bodies; got != uint64(4*len(inputs)) {
		t.Errorf("bodies = %d", got)
	}
}

// DecodeOwned reads every example exactly as Decode does, only without copying the body: its events'
// strings point into the body itself.
func TestDecodeOwnedAgreesWithDecode(t *testing.T) {
	inputs, _ := filepath.Glob(filepath.Join(webhookDir, "*.json"))
	if len(inputs) == 0 {
		t.Fatal("no examples in " + webhookDir)
	}
	d := New(Config{TenantOf: testTenants})
	for _, in := range inputs {
		body, _ := os.ReadFile(in)
		events, invalid, err := d.Decode(body)
		ownedEvents, ownedInvalid, ownedErr := d.DecodeOwned(body)
		if !reflect.DeepEqual(err, ownedErr) || !reflect.DeepEqual(events, ownedEvents) || !reflect.DeepEqual(invalid, ownedInvalid) {
			t.Errorf("%s: DecodeOwned differs\nDecode      %+v %v %v\nDecodeOwned %+v %v %v", in, events, invalid, err, ownedEvents, ownedInvalid, ownedErr)
		}
	}
	body, _ := os.ReadFile(filepath.Join(webhookDir, "inbound-text-phone-and-bsuid.json"))
	events, _, err := d.DecodeOwned(body)
	if err != nil || len(events) != 1 {
		t.Fatal(err)
	}
	id := events[0].User.BSUID
	start := uintptr(unsafe.Pointer(unsafe.SliceData(body)))
	if p := uintptr(unsafe.Pointer(unsafe.StringData(id))); p < start || p >= start+uintptr(len(body)) {
		t.Errorf("BSUID %q was copied out of the body", id)
	}
}

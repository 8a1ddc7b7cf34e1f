package decode

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecode checks that no input panics the decoder and that every input
// either decodes or is refused with a reason, and every invalid event has one.
// Seeds: every golden input and the corpus in testdata/fuzz.
func FuzzDecode(f *testing.F) {
	inputs, _ := filepath.Glob(filepath.Join(webhookDir, "*.json"))
	for _, in := range inputs {
		body, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(body)
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"calls","value":{"calls":[{"status":[1]}]}}]}]}`))
	d := New(Config{TenantOf: func(w string) string { return w }})
	f.Fuzz(func(t *testing.T, body []byte) {
		events, invalid, err := d.Decode(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("body error without a reason")
			}
			if events != nil || invalid != nil {
				t.Fatal("body error with events")
			}
			return
		}
		for _, inv := range invalid {
			if inv.Where == "" || inv.Reason == "" {
				t.Fatalf("invalid without where or reason: %+v", inv)
			}
		}
		for _, ev := range events {
			if ev.DedupeKey == "" || ev.At <= 0 || ev.WABA == "" || ev.Tenant == "" {
				t.Fatalf("valid event without dedupe key, time, WABA or tenant: %+v", ev)
			}
			for _, id := range []string{ev.User.BSUID, ev.User.ParentBSUID, ev.PreviousBSUID, ev.PreviousParentBSUID} {
				if id != "" && !validBSUID(id) {
					t.Fatalf("valid event with malformed BSUID %q", id)
				}
			}
			for _, p := range []string{ev.User.Phone, ev.SharedPhone, ev.PreviousPhone} {
				if p != "" && strings.Trim(p, "0123456789") != "" {
					t.Fatalf("valid event with malformed phone %q", p)
				}
			}
		}
		// Whichever path decoded the body, the slow path must agree with it.
		// Left out: bodies with invalid UTF-8 or \u escapes (encoding/json
		// replaces bad sequences with U+FFFD, sonic keeps them as received), and
		// bodies that are not strictly JSON (sonic skips the values of unknown
		// fields without checking their escapes; see testdata/fuzz).
		// Nor bodies that repeat a key in one object: JSON leaves the meaning open
		// (encoding/json keeps the last value, sonic merges them).
		if !utf8.Valid(body) || bytes.Contains(body, []byte(`\u`)) || !json.Valid(body) || repeatsKey(body) {
			return
		}
		slow := builder{d: d}
		if err := slow.slow(string(body)); err != nil {
			t.Fatalf("fast path decoded what the slow path refuses: %v", err)
		}
		if len(events)+len(slow.events) > 0 && !reflect.DeepEqual(events, slow.events) {
			t.Fatalf("paths disagree on events:\nfast %+v\nslow %+v", events, slow.events)
		}
		if !reflect.DeepEqual(invalid, slow.invalid) {
			t.Fatalf("paths disagree on invalid:\nfast %v\nslow %v", invalid, slow.invalid)
		}
	})
}

// repeatsKey reports whether any object in body has a key twice (compared
// case-insensitively, as both decoders match keys).
func repeatsKey(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		keys   map[string]bool
		expect bool // next string token in this object is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top != nil && top.object {
					top.expect = true
				}
				stack = append(stack, &frame{object: t == '{', keys: map[string]bool{}, expect: t == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if top != nil && top.object && top.expect {
				k := strings.ToLower(t)
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.expect = false
				continue
			}
		}
		if top != nil && top.object {
			top.expect = true
		}
	}
}

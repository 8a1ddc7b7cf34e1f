package schemas

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestStringList(t *testing.T) {
	for in, want := range map[string]StringList{
		`{"status":"COMPLETED"}`:            {"COMPLETED"},
		`{"status":["Failed","Completed"]}`: {"Failed", "Completed"},
		`{"status":[]}`:                     {},
		`{"status":null}`:                   nil,
		`{"status":"\u0046AILED"}`:          {"FAILED"},
		`{"other":1}`:                       nil,
		`{"status": [ "A" , "B" ] }`:        {"A", "B"},
	} {
		var c Call
		if err := json.Unmarshal([]byte(in), &c); err != nil || !reflect.DeepEqual(c.Status, want) {
			t.Errorf("%s: got %#v, %v; want %#v", in, c.Status, err, want)
		}
	}
	for _, in := range []string{`{"status":1}`, `{"status":{}}`, `{"status":true}`, `{"status":[1]}`, `{"status":[["x"]]}`} {
		var c Call
		err := json.Unmarshal([]byte(in), &c)
		if err == nil || !strings.Contains(err.Error(), "Call.status") {
			t.Errorf("%s: want an error naming Call.status, got %v", in, err)
		}
	}
}

// Timestamps and durations arrive as strings on most fields and as integers on
// others; both must decode, and keep their text for the decoder to validate.
func TestNumberAcceptsStringAndInteger(t *testing.T) {
	var u UserIDUpdate
	if err := json.Unmarshal([]byte(`{"timestamp":1781009100}`), &u); err != nil || u.Timestamp != "1781009100" {
		t.Errorf("integer: %q, %v", u.Timestamp, err)
	}
	if err := json.Unmarshal([]byte(`{"timestamp":"1781009100"}`), &u); err != nil || u.Timestamp != "1781009100" {
		t.Errorf("string: %q, %v", u.Timestamp, err)
	}
	if err := json.Unmarshal([]byte(`{"timestamp":{}}`), &u); err == nil {
		t.Error("object accepted as a timestamp")
	}
}

// Unknown fields are ignored, at every level.
func TestUnknownFieldsIgnored(t *testing.T) {
	in := `{"object":"whatsapp_business_account","future":{"x":[1]},"entry":[{"id":"1","new":2,
		"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"9","extra":true},
		"messages":[{"id":"wamid.1","type":"text","brand_new_block":{"a":"b"}}]}}]}]}`
	var w Webhook
	if err := json.Unmarshal([]byte(in), &w); err != nil {
		t.Fatal(err)
	}
	if m := w.Entry[0].Changes[0].Value.Messages[0]; m.ID != "wamid.1" || m.Type != "text" {
		t.Errorf("got %+v", m)
	}
}

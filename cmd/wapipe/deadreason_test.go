package main

import (
	"testing"

	"github.com/wapipe/wapipe/stages/decode"
	"github.com/wapipe/wapipe/unit"
)

// Each body the decode stage refuses whole is dead-lettered under a bounded reason, the
// label of wapipe_dead_letters_total, whatever its free-text detail says.
func TestDecodeStageNamesBoundedReasons(t *testing.T) {
	stage := decodeStage(decode.New(decode.Config{}), 64)
	for body, want := range map[string]unit.Reason{
		"this is not json":                                  unit.ReasonNotJSON,
		`{"object":"page","entry":[{}]}`:                    unit.ReasonNotWhatsApp,
		`{"object":"whatsapp_business_account","entry":[]}`: unit.ReasonNotWhatsApp,
		"\xff\xfe":               unit.ReasonNotUTF8,
		string(make([]byte, 65)): unit.ReasonBodyTooLarge,
	} {
		u := &unit.Unit{Rec: &unit.Record{Value: []byte(body)}}
		stage(u)
		if u.DeadLetter == nil || u.DeadLetter.Why != want || u.DeadLetter.Reason == "" {
			t.Errorf("%.20q: dead letter %+v, want reason %s with a detail", body, u.DeadLetter, want)
		}
	}
}

package main

import (
	"testing"

	"github.com/wapipe/wapipe/pipeline"
	"github.com/wapipe/wapipe/stages/decode"
)

// Each body the decode stage refuses whole is dead-lettered under a bounded reason, the
// label of wapipe_dead_letters_total, whatever its free-text detail says.
func TestDecodeStageNamesBoundedReasons(t *testing.T) {
	stage := decodeStage(decode.New(decode.Config{}), 64)
	for body, want := range map[string]pipeline.Reason{
		"this is not json":                                  pipeline.ReasonNotJSON,
		`{"object":"page","entry":[{}]}`:                    pipeline.ReasonNotWhatsApp,
		`{"object":"whatsapp_business_account","entry":[]}`: pipeline.ReasonNotWhatsApp,
		"\xff\xfe":               pipeline.ReasonNotUTF8,
		string(make([]byte, 65)): pipeline.ReasonBodyTooLarge,
	} {
		u := &pipeline.Unit{Rec: &pipeline.Record{Value: []byte(body)}}
		stage(u)
		if u.DeadLetter == nil || u.DeadLetter.Why != want || u.DeadLetter.Reason == "" {
			t.Errorf("%.20q: dead letter %+v, want reason %s with a detail", body, u.DeadLetter, want)
		}
	}
}

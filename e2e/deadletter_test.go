package e2e

import (
	"context"
	"time"

	"github.com/segmentio/kafka-go"
)

type letter struct{ kafka.Message }

func (l letter) header(k string) string {
	for _, h := range l.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

func kafkaMessage(body []byte) kafka.Message {
	return kafka.Message{Key: []byte("106540352242922"), Value: body}
}

// deadLetters reads up to n dead letters from partition order of the dead-letter topic.
func (e *env) deadLetters(n int, timeout time.Duration) []letter {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{e.brokers}, Topic: dlqTopic, GroupID: "e2e-dlq-reader",
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	var out []letter
	for len(out) < n {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			break
		}
		out = append(out, letter{m})
	}
	return out
}

// threeMessagesOneInvalid is one body whose middle message has a malformed BSUID.
func threeMessagesOneInvalid() []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
"contacts":[{"profile":{"name":"Omar S."},"wa_id":"573015550142","user_id":"CO.18830092211746650031"}],
"messages":[
{"from":"573015550142","from_user_id":"CO.18830092211746650031","id":"wamid.OK1","timestamp":"1781004601","type":"text","text":{"body":"uno"}},
{"from_user_id":"co-not-a-bsuid","id":"wamid.INVALID","timestamp":"1781004602","type":"text","text":{"body":"dos"}},
{"from":"573015550142","from_user_id":"CO.18830092211746650031","id":"wamid.OK2","timestamp":"1781004603","type":"text","text":{"body":"tres"}}
]}}]}]}`)
}

package decode_test

import (
	"fmt"

	"github.com/wapipe/wapipe/stages/decode"
)

func ExampleDecoder_Decode() {
	d := decode.New(decode.Config{})
	events, invalid, err := d.Decode([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398",
		"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"106540352242922"},
		"contacts":[{"profile":{"name":"Lina K.","username":"@lina.k"},"user_id":"CO.40211187365528190437"}],
		"messages":[
			{"from_user_id":"CO.40211187365528190437","id":"wamid.A","timestamp":"1781004512","type":"text"},
			{"from_user_id":"CO-4021","id":"wamid.B","timestamp":"1781004513","type":"text"}]}}]}]}`))
	fmt.Println(err)
	for _, e := range events {
		fmt.Println(e.Kind, e.DedupeKey, e.At, e.User.BSUID, e.User.Username)
	}
	for _, i := range invalid {
		fmt.Println(i)
	}
	// Output:
	// <nil>
	// inbound wamid.A 1781004512 CO.40211187365528190437 @lina.k
	// wamid.B: from_user_id "CO-4021" is not a BSUID (two capital letters, '.', optional 'ENT.', 1-128 letters or digits)
}

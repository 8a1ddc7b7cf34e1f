package report

import (
	"strconv"
	"testing"

	"github.com/wapipe/wapipe/model"
)

// BenchmarkRows measures one event through Rows, each on a new message (the common case: state
// is created), with its Badger transaction.
func BenchmarkRows(b *testing.B) {
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = "wamid.HBgLMTU1NTAwMDExMTEVAgASGBQzQUI" + strconv.Itoa(i)
	}
	run := func(b *testing.B, mk func(id string, i int) *model.Event) {
		bl := newBuilder(b, 0)
		if _, err := bl.Rows(inbound("touch", t0, ad("AD1", "clid")), alice); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			ev := mk(ids[i%len(ids)]+"."+strconv.Itoa(i/len(ids)), i)
			if _, err := bl.Rows(ev, alice); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("inbound_text", func(b *testing.B) {
		run(b, func(id string, i int) *model.Event { return inbound(id, t0+int64(i), nil) })
	})
	b.Run("status_sent_priced", func(b *testing.B) {
		run(b, func(id string, i int) *model.Event {
			return priced(status(id, "sent", t0+int64(i)), "marketing", "regular")
		})
	})
	b.Run("status_delivered", func(b *testing.B) { // a later status of a message already known
		bl := newBuilder(b, 0)
		for i := range b.N {
			if _, err := bl.Rows(status("m"+strconv.Itoa(i), "sent", t0), alice); err != nil {
				b.Fatal(err)
			}
		}
		evs := make([]*model.Event, b.N)
		for i := range evs {
			evs[i] = status("m"+strconv.Itoa(i), "delivered", t0+1)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for _, ev := range evs {
			if _, err := bl.Rows(ev, alice); err != nil {
				b.Fatal(err)
			}
		}
	})
}

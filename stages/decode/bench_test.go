package decode

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/bytedance/sonic"
	"github.com/wapipe/wapipe/schemas"
)

// The benchmarks decode one example body per webhook kind, as the pipeline
// does: one Decode call per Kafka record. Figures go in bench/RESULTS.md.

func benchDecode(b *testing.B, file string) {
	body, err := os.ReadFile(filepath.Join(webhookDir, file))
	if err != nil {
		b.Fatal(err)
	}
	d := New(Config{})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		events, invalid, err := d.Decode(body)
		if err != nil || len(events) == 0 || len(invalid) != 0 {
			b.Fatalf("%s: %d events, %v, %v", file, len(events), invalid, err)
		}
	}
}

func BenchmarkDecodeInbound(b *testing.B) { benchDecode(b, "inbound-text-phone-and-bsuid.json") }
func BenchmarkDecodeInboundUsername(b *testing.B) {
	benchDecode(b, "inbound-text-username-phone-hidden.json")
}
func BenchmarkDecodeReferral(b *testing.B)        { benchDecode(b, "inbound-ctwa-referral.json") }
func BenchmarkDecodeSharedContact(b *testing.B)   { benchDecode(b, "contacts-shared-on-request.json") }
func BenchmarkDecodeStatusSent(b *testing.B)      { benchDecode(b, "status-sent-pricing.json") }
func BenchmarkDecodeStatusDelivered(b *testing.B) { benchDecode(b, "status-delivered-bsuid-only.json") }
func BenchmarkDecodeStatusFailed(b *testing.B)    { benchDecode(b, "status-failed-phone-only.json") }
func BenchmarkDecodeCallTerminate(b *testing.B)   { benchDecode(b, "call-terminate-user-initiated.json") }
func BenchmarkDecodeCallStatus(b *testing.B)      { benchDecode(b, "call-status-ringing.json") }
func BenchmarkDecodeSystem(b *testing.B)          { benchDecode(b, "system-user-changed-user-id.json") }
func BenchmarkDecodeUserIDUpdate(b *testing.B)    { benchDecode(b, "legacy-user-id-update-field.json") }
func BenchmarkDecodeBatch21(b *testing.B)         { benchDecode(b, "inbound-batch-every-type.json") }

// BenchmarkWire compares decoders on the wire types alone (no events), on the
// 1 KB inbound example: the measurement behind the choice of sonic.
func BenchmarkWire(b *testing.B) {
	body, err := os.ReadFile(filepath.Join(webhookDir, "inbound-text-phone-and-bsuid.json"))
	if err != nil {
		b.Fatal(err)
	}
	for _, dec := range []struct {
		name string
		fn   func([]byte, any) error
	}{
		{"encoding-json", json.Unmarshal},
		{"sonic-default", sonic.Unmarshal},
		{"sonic-wapipe", func(data []byte, v any) error { return fast.UnmarshalFromString(string(data), v) }},
	} {
		b.Run(dec.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				var w schemas.Webhook
				if err := dec.fn(body, &w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

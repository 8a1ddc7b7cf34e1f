package identity

import (
	"bytes"
	"reflect"
	"testing"
)

func sampleRecord() *record {
	return &record{head: head{tenant: "t", id: "c_1",
		bsuid: fact{"US.1", 1_700_000_000, 1}, parent: fact{"US.ENT.2", 5, 0}, phone: fact{"1555", -7, 3},
		user: fact{"@Ana", 9, 0}, name: fact{"Ana Ñ", 10, 0}, firstSeen: -1, lastSeen: 1 << 40,
		mergedInto: "c_2", version: 1<<63 + 5},
		keys: []keyRec{{codeBSUID, "US.1", 1, 2, 3}, {codeUser, "@Ana", 4, 5, 1 << 50}}}
}

func TestCodecRoundTrip(t *testing.T) {
	erased := sampleRecord()
	erased.erased = 1_700_000_100 // format 2
	for _, r := range []*record{sampleRecord(), {head: head{tenant: "t", id: "c_0"}}, erased} {
		enc := r.encode(nil)
		got, err := decode(r.tenant, r.id, enc)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("decode(encode(%+v)) = %+v, %v", r, got, err)
		}
		for i := range enc { // every truncation is an error, never a panic
			if _, err := decode("t", "c", enc[:i]); err == nil {
				t.Fatalf("truncated at %d decoded", i)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(sampleRecord().encode(nil))
	f.Add([]byte{formatV1})
	erased := sampleRecord()
	erased.erased = 42
	f.Add(erased.encode(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decode("t", "c", b)
		if err == nil && !bytes.Equal(r.encode(nil), b) {
			// Varints have one canonical form per value except for padded encodings;
			// a successful decode must at least re-decode to the same record.
			again, err := decode("t", "c", r.encode(nil))
			if err != nil || !reflect.DeepEqual(again, r) {
				t.Fatalf("re-decode mismatch: %v", err)
			}
		}
	})
}

package identity

import (
	"encoding/binary"
	"fmt"
)

// Everything about bytes in Badger lives in this file, so the encoding can change in
// one place. Records are a hand-written binary form (varints and length-prefixed
// strings, about 120 bytes for a contact with three keys; JSON was about 3x larger and
// 10x slower to decode), led by a format byte so a future format can coexist.

const (
	prefix       = "id/"
	contactPfx   = prefix + "c/"
	indexPfx     = prefix + "k/"
	formatV1     = 1
	formatV2     = 2       // V1 and then the erasure cut: only erased contacts, so other records stay readable by older workers
	maxKeysOnRec = 1 << 16 // decode guard against corrupt lengths
)

// contactKey is id/c/<tenant>\x00<id>.
func contactKey(tenant, id string) []byte { return appendContactKey(nil, tenant, id) }

func appendContactKey(b []byte, tenant, id string) []byte {
	b = append(b, contactPfx...)
	b = append(b, tenant...)
	b = append(b, 0)
	return append(b, id...)
}

// indexKey is id/k/<code><normalized value>\x00<tenant>: value before tenant, so that
// indexScan(code, value) finds the value in every tenant.
func indexKey(code byte, value, tenant string) []byte {
	return appendIndexKey(nil, code, value, tenant)
}

func appendIndexKey(b []byte, code byte, value, tenant string) []byte {
	return append(appendIndexScan(b, code, value), tenant...)
}

func indexScan(code byte, value string) []byte { return appendIndexScan(nil, code, value) }

func appendIndexScan(b []byte, code byte, value string) []byte {
	b = append(b, indexPfx...)
	b = append(b, code)
	b = append(b, normalize(code, value)...)
	return append(b, 0)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFact(b []byte, f fact) []byte {
	b = appendString(b, f.V)
	b = binary.AppendVarint(b, f.At)
	return append(b, f.Rank)
}

// versionEnd is where the fixed-width version ends: [format][version, 8 bytes LE][...].
// A fixed place lets finish compare contents without the version and stamp a new
// version without encoding twice.
const versionEnd = 9

// encode appends the record's stored form to b.
func (r *record) encode(b []byte) []byte {
	if b == nil {
		n := 64 + len(r.bsuid.V) + len(r.parent.V) + len(r.phone.V) + len(r.user.V) + len(r.name.V) + len(r.mergedInto)
		for i := range r.keys {
			n += 24 + len(r.keys[i].value)
		}
		b = make([]byte, 0, n)
	}
	format := byte(formatV1)
	if r.erased != 0 {
		format = formatV2
	}
	b = append(b, format)
	b = binary.LittleEndian.AppendUint64(b, r.version)
	for _, f := range [...]fact{r.bsuid, r.parent, r.phone, r.user, r.name} {
		b = appendFact(b, f)
	}
	b = binary.AppendVarint(b, r.firstSeen)
	b = binary.AppendVarint(b, r.lastSeen)
	b = appendString(b, r.mergedInto)
	b = binary.AppendUvarint(b, uint64(len(r.keys)))
	for i := range r.keys {
		k := &r.keys[i]
		b = append(b, k.code)
		b = appendString(b, k.value)
		b = binary.AppendVarint(b, k.firstSeen)
		b = binary.AppendVarint(b, k.lastSeen)
		b = binary.AppendUvarint(b, k.version)
	}
	if format == formatV2 {
		b = binary.AppendVarint(b, r.erased)
	}
	return b
}

// reader decodes from one string, so every decoded string shares one allocation.
type reader struct {
	s   string
	err bool
}

func (d *reader) uvarint() uint64 {
	var v uint64
	for i := 0; i < len(d.s) && i < binary.MaxVarintLen64; i++ {
		c := d.s[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			d.s = d.s[i+1:]
			return v
		}
	}
	d.err, d.s = true, ""
	return 0
}

func (d *reader) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1) // zigzag, as binary.AppendVarint writes
}

func (d *reader) byte() byte {
	if len(d.s) == 0 {
		d.err = true
		return 0
	}
	c := d.s[0]
	d.s = d.s[1:]
	return c
}

func (d *reader) string() string {
	n := d.uvarint()
	if n > uint64(len(d.s)) {
		d.err, d.s = true, ""
		return ""
	}
	v := d.s[:n]
	d.s = d.s[n:]
	return v
}

func (d *reader) fact() fact {
	return fact{V: d.string(), At: d.varint(), Rank: d.byte()}
}

// decode parses a stored record of the given contact.
func decode(tenant, id string, val []byte) (*record, error) {
	d := reader{s: string(val)}
	format := d.byte()
	if format != formatV1 && format != formatV2 {
		return nil, fmt.Errorf("%w: contact %s/%s: unknown format", ErrCorrupt, tenant, id)
	}
	if len(d.s) < versionEnd-1 {
		return nil, fmt.Errorf("%w: contact %s/%s: short record", ErrCorrupt, tenant, id)
	}
	r := &record{head: head{tenant: tenant, id: id}}
	for i := 8; i > 0; i-- {
		r.version = r.version<<8 | uint64(d.s[i-1])
	}
	d.s = d.s[8:]
	r.bsuid, r.parent, r.phone, r.user, r.name = d.fact(), d.fact(), d.fact(), d.fact(), d.fact()
	r.firstSeen, r.lastSeen = d.varint(), d.varint()
	r.mergedInto = d.string()
	n := d.uvarint()
	if n > maxKeysOnRec || n > uint64(len(d.s)) {
		d.err = true
	} else if n > 0 {
		r.keys = make([]keyRec, n)
	}
	for i := range r.keys {
		k := &r.keys[i]
		k.code, k.value = d.byte(), d.string()
		k.firstSeen, k.lastSeen, k.version = d.varint(), d.varint(), d.uvarint()
	}
	if format == formatV2 {
		r.erased = d.varint()
	}
	if d.err || len(d.s) != 0 {
		return nil, fmt.Errorf("%w: contact %s/%s: bad record", ErrCorrupt, tenant, id)
	}
	return r, nil
}

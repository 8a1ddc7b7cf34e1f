package gen

import (
	"encoding/base64"
	"encoding/binary"
	"strconv"
)

// JSON is appended by hand into reused buffers: encoding/json of maps would cost ten
// times more and allocate per field. Every string written is digits, an id, or a
// constant that is already JSON-escaped, so nothing is escaped here.

// sep appends the comma between members, unless an object or array just opened.
func sep(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] != '{' && b[n-1] != '[' {
		return append(b, ',')
	}
	return b
}

func key(b []byte, k string) []byte {
	b = append(sep(b), '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

func str(b []byte, k, v string) []byte {
	b = append(key(b, k), '"')
	b = append(b, v...)
	return append(b, '"')
}

func num(b []byte, k string, v int64) []byte { return strconv.AppendInt(key(b, k), v, 10) }

// unix appends a time as Meta sends them: unix seconds in a string.
func unix(b []byte, k string, t int64) []byte {
	b = append(key(b, k), '"')
	return append(strconv.AppendInt(b, t, 10), '"')
}

// pad appends v as exactly width decimal digits.
func pad(b []byte, v uint64, width int) []byte {
	var d [20]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:width]...)
}

// hex16 appends 16 hex digits.
func hex16(b []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for s := 60; s >= 0; s -= 4 {
		b = append(b, digits[v>>uint(s)&15])
	}
	return b
}

// mix is splitmix64: well-spread digits for values that only need to look random.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// qID appends a quoted wamid or wacid. Meta's ids are base64 of a protobuf; these carry
// mix of the id counter, which never collides (mix is a bijection of uint64), and
// seed-derived bytes, so two seeds differ.
func (g *Generator) qID(b []byte, prefix string, seq uint64) []byte {
	var raw [16]byte
	raw[0], raw[1], raw[2], raw[3] = 0x1c, 0x18, 0x0c, prefix[2]
	binary.BigEndian.PutUint64(raw[4:12], mix(seq))
	binary.BigEndian.PutUint32(raw[12:], uint32(mix(seq^g.mix)))
	b = append(b, '"')
	b = append(b, prefix...)
	b = base64.StdEncoding.AppendEncode(b, raw[:])
	return append(b, '"')
}

// qRandom appends a quoted random token of n*8 bytes in URL-safe base64 (click ids).
func (g *Generator) qRandom(b []byte, prefix string, n int) []byte {
	var raw [64]byte
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint64(raw[i*8:], g.rng.Uint64())
	}
	b = append(b, '"')
	b = append(b, prefix...)
	b = base64.RawURLEncoding.AppendEncode(b, raw[:n*8])
	return append(b, '"')
}

// dated is what the pending queues order by.
type dated interface{ dueAt() int64 }

// minHeap is a binary heap by due time; it holds only what is still to come, so it
// stays small however long the stream is.
type minHeap[T dated] struct{ a []T }

func (h *minHeap[T]) push(x T) {
	h.a = append(h.a, x)
	for i := len(h.a) - 1; i > 0; {
		p := (i - 1) / 2
		if h.a[p].dueAt() <= h.a[i].dueAt() {
			break
		}
		h.a[p], h.a[i] = h.a[i], h.a[p]
		i = p
	}
}

// popDue removes and returns the earliest entry if it is due at now.
func (h *minHeap[T]) popDue(now int64) (T, bool) {
	var zero T
	if len(h.a) == 0 || h.a[0].dueAt() > now {
		return zero, false
	}
	top, last := h.a[0], len(h.a)-1
	h.a[0], h.a[last] = h.a[last], zero
	h.a = h.a[:last]
	for i := 0; ; {
		l, s := 2*i+1, i
		if l < last && h.a[l].dueAt() < h.a[s].dueAt() {
			s = l
		}
		if r := l + 1; r < last && h.a[r].dueAt() < h.a[s].dueAt() {
			s = r
		}
		if s == i {
			break
		}
		h.a[i], h.a[s] = h.a[s], h.a[i]
		i = s
	}
	return top, true
}

// pend is a status or call event scheduled for later.
type pend struct {
	due, ts int64 // when it is delivered (the clock) and its own timestamp
	aux     int64 // message: free-entry-point window start; call: start_time (0: unanswered)
	seq     uint64
	user    int32
	slot    int32 // message state (expected.go)
	dur     int32 // call duration, seconds
	biz     uint8
	step    uint8 // st* for messages, c* for calls
	price   uint8 // pricing plan carried by this status, 0 for none
	bizInit bool  // a business-initiated call
}

func (p pend) dueAt() int64 { return p.due }

// retry is a body to deliver again at body number due.
type retry struct {
	due      int64
	key, val []byte
}

func (r retry) dueAt() int64 { return r.due }

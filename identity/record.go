package identity

import (
	"slices"
	"strings"
	"unsafe"

	"github.com/wapipe/wapipe/model"
)

// One-byte key type codes keep records and index keys short.
const (
	codeBSUID  byte = 'b'
	codeParent byte = 'e' // "enterprise": parent BSUIDs look like US.ENT.123
	codePhone  byte = 'p'
	codeUser   byte = 'u'
)

func codeOf(keyType string) (byte, bool) {
	switch keyType {
	case KeyBSUID:
		return codeBSUID, true
	case KeyParentBSUID:
		return codeParent, true
	case KeyPhone:
		return codePhone, true
	case KeyUsername:
		return codeUser, true
	}
	return 0, false
}

func typeOf(code byte) string {
	switch code {
	case codeBSUID:
		return KeyBSUID
	case codeParent:
		return KeyParentBSUID
	case codePhone:
		return KeyPhone
	}
	return KeyUsername
}

// normalize is the form a value is indexed under: usernames compare case-insensitively.
func normalize(code byte, v string) string {
	if code == codeUser {
		return strings.ToLower(v)
	}
	return v
}

// Phone sources are stored as the rank of the phone fact: at equal event times the
// stronger proof wins (a shared contact card beats a change notice beats a payload).
var sourceRank = map[string]uint8{
	model.PhoneFromWebhook: 1, model.PhoneFromSystem: 2, model.PhoneFromContactRequest: 3,
}

func sourceOf(rank uint8) string {
	switch rank &^ addressedRank {
	case 1:
		return model.PhoneFromWebhook
	case 2:
		return model.PhoneFromSystem
	case 3:
		return model.PhoneFromContactRequest
	}
	return ""
}

// fact is one current identity fact and the event that set it.
type fact struct {
	V    string
	At   int64
	Rank uint8
}

// addressedRank marks a fact that only traffic the business addressed has said
// (Facts.Addressed). Records written before it existed have it clear, as they did.
const addressedRank uint8 = 0x80

// set applies rule 7: an older event never overwrites a newer fact. At equal times the
// higher rank, then the larger value wins. Before all that, a fact from the user's own
// traffic outranks one from addressed traffic. It is one total order, so whatever
// order the events arrive in, the same fact stands.
func (f *fact) set(v string, at int64, rank uint8) bool {
	fromUser, wasFromUser := rank&addressedRank == 0, f.Rank&addressedRank == 0
	switch {
	case *f == fact{}: // nothing said yet
	case fromUser != wasFromUser:
		if !fromUser {
			return false
		}
	case at < f.At || at == f.At && (rank < f.Rank || rank == f.Rank && v <= f.V):
		return false
	}
	*f = fact{V: v, At: at, Rank: rank}
	return true
}

// keyRec is one key of a contact, kept in the contact's record so that the common
// event needs no read of its other keys.
type keyRec struct {
	code                byte
	value               string // as first received
	firstSeen, lastSeen int64
	version             uint64
}

func (k *keyRec) seen(first, last int64) {
	k.firstSeen = min(k.firstSeen, first)
	k.lastSeen = max(k.lastSeen, last)
}

// record is a contact as stored.
type record struct {
	head
	keys []keyRec
}

// head is the comparable part of a record.
type head struct {
	tenant, id                       string // from the Badger key, not encoded
	bsuid, parent, phone, user, name fact   // phone.Rank is the phone source; user is the newest claim
	firstSeen, lastSeen              int64
	mergedInto                       string
	version                          uint64
	// erased is the cut of the newest erasure of the contact (wapipe forget, erase.go):
	// its phone, username and profile name as of that time are gone and never come back.
	erased int64
}

// cloneInto copies r into c, keys included, so that c can change while r stays. The
// strings are copied into one allocation of their own: an event's strings share its
// webhook body, and a cached contact must not keep a whole body alive (at 100,000
// cached contacts that was 120 MB of bodies).
func (r *record) cloneInto(c *record) *record {
	*c = record{head: r.head, keys: slices.Clone(r.keys)}
	n := len(c.tenant) + len(c.id) + len(c.mergedInto)
	facts := [...]*string{&c.bsuid.V, &c.parent.V, &c.phone.V, &c.user.V, &c.name.V}
	for _, f := range facts {
		n += len(*f)
	}
	for i := range c.keys {
		n += len(c.keys[i].value)
	}
	buf := make([]byte, 0, n)
	detach := func(s *string) {
		start := len(buf)
		buf = append(buf, *s...)
		*s = unsafe.String(unsafe.SliceData(buf[start:]), len(*s))
	}
	detach(&c.tenant)
	detach(&c.id)
	detach(&c.mergedInto)
	for _, f := range facts {
		detach(f)
	}
	for i := range c.keys {
		detach(&c.keys[i].value)
	}
	return c
}

// key returns the index of the contact's key, or -1.
func (r *record) key(code byte, v string) int {
	for i := range r.keys {
		k := &r.keys[i]
		if k.code == code && (k.value == v || code == codeUser && strings.EqualFold(k.value, v)) {
			return i
		}
	}
	return -1
}

func (r *record) seen(first, last int64) {
	r.firstSeen = min(r.firstSeen, first)
	r.lastSeen = max(r.lastSeen, last)
}

// older orders merge candidates: the earliest first_seen survives, ties by id.
func (r *record) older(o *record) bool {
	return r.firstSeen < o.firstSeen || r.firstSeen == o.firstSeen && r.id < o.id
}

func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (r *record) row() *model.IdentityRow {
	// One allocation holds the row and the strings its Nullable columns point at.
	x := &struct {
		row  model.IdentityRow
		strs [5]string
	}{strs: [5]string{r.bsuid.V, r.parent.V, r.phone.V, r.username(), r.name.V}}
	ptr := func(i int) *string {
		if x.strs[i] == "" {
			return nil
		}
		return &x.strs[i]
	}
	x.row = model.IdentityRow{
		Tenant: r.tenant, ContactID: r.id,
		BSUID: ptr(0), ParentBSUID: ptr(1), Phone: ptr(2), Username: ptr(3), Profile: ptr(4),
		Country: country(r.bsuid.V), PhoneSource: r.phoneSource(),
		FirstSeen: r.firstSeen, LastSeen: r.lastSeen, MergedInto: r.mergedInto, Version: r.version,
	}
	return &x.row
}

func (r *record) keyRow(k *keyRec) model.ContactKeyRow {
	return model.ContactKeyRow{Tenant: r.tenant, KeyType: typeOf(k.code), KeyValue: k.value,
		ContactID: r.id, FirstSeen: k.firstSeen, LastSeen: k.lastSeen, Version: k.version}
}

// username is the contact's newest claimed username while the contact holds it (a
// merged contact shows the one it had when it merged).
func (r *record) username() string {
	if r.mergedInto == "" && r.key(codeUser, r.user.V) < 0 {
		return ""
	}
	return r.user.V
}

func (r *record) phoneSource() string {
	if r.phone.V == "" {
		return ""
	}
	return sourceOf(r.phone.Rank)
}

// nextVersion is max(prev+1, at<<20); see the package comment.
func nextVersion(prev uint64, at int64) uint64 {
	v := prev + 1
	if at > 0 && uint64(at)<<20 > v {
		v = uint64(at) << 20
	}
	return v
}

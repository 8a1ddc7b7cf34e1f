package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/wapipe/wapipe/state"

	"github.com/wapipe/wapipe/model"
)

// Key types, as written to contact_keys.key_type.
const (
	KeyBSUID       = "bsuid"
	KeyParentBSUID = "parent_bsuid"
	KeyPhone       = "phone"
	KeyUsername    = "username"
)

var (
	// ErrInvalid reports facts that cannot be applied (no tenant, unknown phone source).
	ErrInvalid = errors.New("identity: invalid facts")
	// ErrKeyType reports a key type other than the four above.
	ErrKeyType = errors.New("identity: unknown key type")
	// ErrCorrupt reports a record that cannot be decoded or a dangling reference.
	ErrCorrupt = errors.New("identity: corrupt store")
)

// Facts are what one event says about its user. Empty strings mean "not in this event".
type Facts struct {
	Tenant string
	At     int64 // event time, unix seconds

	BSUID, ParentBSUID, Phone, Username, ProfileName string
	// PhoneSource says how Phone was learned: model.PhoneFromWebhook (the default),
	// PhoneFromContactRequest or PhoneFromSystem (the default for identity changes).
	PhoneSource string

	// Identity changes (rule 6): the keys the user had before.
	PreviousBSUID, PreviousParentBSUID, PreviousPhone string

	// Addressed says the business addressed the event to the user: a status of its
	// message, or a call it placed. Its BSUID and phone are the ones the business used,
	// which may be ones the user has since left (a change of number retires both, and
	// statuses of messages sent before it still name them). Such an event links its keys
	// to the contact like any other, but its BSUID and phone never outrank what the
	// user's own traffic or a change notice said, whatever the times: they only stand
	// until one of those says something.
	Addressed bool
}

// change reports whether the facts describe a BSUID or phone change.
func (f *Facts) change() bool { return f.PreviousBSUID != "" || f.PreviousPhone != "" }

// source is how Phone was learned, with the defaults filled in.
func (f *Facts) source() string {
	switch {
	case f.PhoneSource != "":
		return f.PhoneSource
	case f.change():
		return model.PhoneFromSystem
	}
	return model.PhoneFromWebhook
}

// Resolution is the outcome of one Resolve.
type Resolution struct {
	// Who goes on the event's report rows. ContactID is "" when the event has no
	// BSUID or phone and its parent BSUID and username are unknown.
	Who model.Who
	// Changed holds an *model.IdentityRow and *model.ContactKeyRow for every contact
	// and key this call created or changed, merge losers included.
	Changed []model.Row
}

// Key is one identifier of a contact.
type Key struct {
	Type, Value         string // Value as first received (usernames keep their case)
	FirstSeen, LastSeen int64
}

// Contact is a contact as the store knows it now.
type Contact struct {
	Tenant, ID                                       string
	BSUID, ParentBSUID, Phone, Username, ProfileName string
	PhoneSource                                      string // webhook, contact_request, system or ""
	Country                                          string // the BSUID's two-letter prefix, or ""
	FirstSeen, LastSeen                              int64
	MergedInto                                       string   // "" unless merged into another contact
	Keys                                             []Key    // empty on a merged contact: its keys moved to the survivor
	MergedFrom                                       []string // from Lookup: the contacts merged into this one, directly or not
	Version                                          uint64
	Erased                                           int64 // the cut of the contact's newest erasure (unix seconds), or 0
}

// Config tunes a Store. The zero value is valid.
type Config struct {
	// CacheContacts is how many recently used contacts (decoded, with their keys'
	// index entries) stay in memory so that resolving them reads nothing from Badger:
	// about 1 KB of heap each. 0 means 100000; negative disables the cache.
	CacheContacts int
	// SeenStep is the time resolution of identity facts: event times are rounded down
	// to it before the rules compare them and before first/last seen record them. 0,
	// the default, keeps seconds, at the cost of a write and a few rows for every
	// event (last_seen moves); a minute lets the events of one conversation (message,
	// sent, delivered, read) write once. Within a step, rank and value decide (rule 7).
	SeenStep time.Duration
	// State, when set, is the state the store keeps its contacts in, shared with its
	// caller, who seals it once per batch and checkpoints it once the batch's rows are
	// durable (package state). nil: the store keeps a state of its own on the database
	// and checkpoints it at the end of every call (tools and tests).
	State *state.Store
	// LastSeenStep lets last_seen lag: an event that would move only the last_seen of a
	// contact or key, by less than this, changes nothing (no write, no row), so a
	// conversation's burst writes its contact once. first_seen and every fact stay exact.
	LastSeenStep time.Duration
}

// ContactID is the deterministic id of a contact created from the given key
// (see the package comment for why).
func ContactID(tenant, keyType, value string) string {
	h := sha256.New()
	h.Write([]byte(tenant))
	h.Write([]byte{0})
	h.Write([]byte(keyType))
	h.Write([]byte{0})
	h.Write([]byte(value))
	var sum [sha256.Size]byte
	return "c_" + hex.EncodeToString(h.Sum(sum[:0])[:8])
}

// country is the two-letter prefix of a BSUID such as "US.1349".
func country(bsuid string) string {
	if len(bsuid) > 3 && bsuid[2] == '.' {
		return bsuid[:2]
	}
	return ""
}

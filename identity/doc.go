// Package identity keeps each WhatsApp user of a tenant as one contact while Meta
// replaces phone numbers with business-scoped user IDs (BSUIDs). It implements the
// identity rules of contract section 4 on a Badger database the caller opens and shares
// with other packages; it uses only keys under the prefix "id/".
//
// What it promises:
//
//   - Resolve (and ResolveBatch) applies rules 1-7 atomically, in one Badger
//     transaction, and returns the identity for the event's report rows plus every
//     identities/contact_keys row the call created or changed, merge losers included.
//     Keeping the newest version of each row (ReplacingMergeTree, or Collapse) gives
//     exactly the store's state: ClickHouse can be rebuilt from the rows alone.
//   - Re-applying facts already applied changes nothing and returns no rows, so the
//     pipeline may reprocess after a crash.
//   - Arrival order does not decide: an older event never overwrites a newer current
//     fact (it still links its keys and widens first/last seen), equal times are broken
//     by rank and then value, a username belongs to the contact that claimed it last,
//     and the same facts in any order put the same keys on one contact with the same
//     current facts (only contact ids may differ, see below).
//   - Every key ever seen keeps resolving: after a merge or a BSUID/phone change the
//     old keys point straight at the surviving contact, until an erasure (wapipe forget,
//     erase.go) removes a person's phone and username keys, phone, username and profile
//     name; nothing dated at or before the erasure brings them back, whichever way it
//     arrives (another worker's snapshot, a replayed event), and later traffic starts afresh.
//
// Contact ids are deterministic: "c_" + 16 hex digits of
// sha256(tenant NUL key_type NUL value) of the key that created the contact,
// preferring the (previous) BSUID, then the (previous) phone. Each worker of a consumer
// group holds its own store; two workers that first meet a user through the same key
// mint the same id without talking to each other, so their ClickHouse rows collapse into
// one contact instead of two. A merge keeps the contact with the earliest first_seen
// (tie: the smaller id), again a function of the facts, not of the worker.
//
// Row versions are max(previous version + 1, event time << 20): they grow with every
// change of a row, and a store rebuilt by replaying Kafka produces the same versions, so
// ReplacingMergeTree keeps the newest state either way.
//
// Storage (bytes in codec.go):
//
//	id/c/<tenant>\x00<contact id>          -> contact record: current facts, keys with first/last seen, merged_into
//	id/k/<type code><value>\x00<tenant>    -> contact id (usernames lower-cased)
//	id/m/<tenant>\x00<survivor>\x00<loser> -> nothing: the merge index Rows reads
//	id/f/<tenant>\x00<contact id>          -> erasure cut of a contact erased before it was known here
//
// Index keys put the value before the tenant so a lookup without a tenant is a prefix
// scan. A contact's record carries its keys, so an event whose keys are all known reads
// one index entry and one record, and writes one record. A cache of recently used
// contacts skips even those reads; it is filled only after a commit, so it never holds
// what Badger does not.
//
// Throughput: a commit costs more than resolving an event, so the pipeline should call
// ResolveBatch with a fetched batch; Config.SeenStep coarsens identity times so that a
// conversation's burst of events writes once. Resolve serializes writers with a mutex;
// readers (Contact, ContactOf, Lookup) read committed state without it.
//
// A BSUID change forgets the phone, deliberately, however it was learned. Meta regenerates a
// user's BSUID only when their number changes, so `user_changed_user_id` (which carries no
// number) says the phone the contact had (from a webhook, from a contact_request card or from
// a number-change notice alike) is the number the user left. Keeping it would address
// messages, CRM notifications and authentication codes to someone else's phone. The contact's
// phone is unknown as of that event (identities.phone NULL, phone_source empty), the old phone
// stays a key that resolves to the contact (contact_keys), and the next webhook or
// contact_request with the new number fills it in; an older event replayed later does not
// bring the old phone back (rule 7).
package identity

// Package gen generates deterministic, realistic WhatsApp Cloud API webhook traffic
// (Kafka message bodies) for the demo, integration tests and benchmarks, and says what
// a correct pipeline must make of it.
//
// It promises:
//   - Determinism: the same Config gives the same bodies, byte for byte.
//   - Realism: bodies have the shape, field names and field order of Meta's webhooks
//     (shared/webhooks/examples), as compact JSON: inbound messages of several types,
//     Click-to-WhatsApp referrals, phones shared on request, outbound statuses with
//     pricing (sometimes out of order), calls, number and BSUID changes, batched bodies
//     whose contacts[] are not in messages[] order, and Meta-style re-deliveries.
//     Users are phone+BSUID, username-only (phone hidden), moving from the first to the
//     second, or legacy (phone only, later phone+BSUID).
//   - Streaming: memory is O(Users) plus a small window of pending statuses, calls and
//     retries; a million bodies take a few seconds and are never held together.
//   - Expected: the rows a correct pipeline writes (contract section 3, after FINAL),
//     the contacts it resolves and the dead letters it sends, for exactly the bodies
//     produced.
package gen

import (
	"math/rand/v2"
	"time"
)

// Config says how much traffic to make. Zero values take the defaults.
type Config struct {
	Seed int64
	// Webhooks is how many bodies (Kafka messages) Next produces, duplicates and poison included.
	Webhooks int
	// Users is the population (default Webhooks/10, at least 1); Expected.Contacts counts
	// those who showed up.
	Users int
	// Businesses is how many phone_number_ids (default 3, at most 200). One sits under one
	// WABA; two or more are split over two WABAs, so there are two tenants.
	Businesses int
	// DuplicateRate is the share of valid bodies that re-deliver an earlier body byte for
	// byte, as Meta's retries do (default 0.10; negative for none).
	DuplicateRate float64
	// PoisonRate is the share of bodies that are invalid on purpose (default 0). They are
	// never re-delivered, so each must be dead-lettered exactly once.
	PoisonRate float64
	// Start is the first event time (default 2026-06-01T00:00:00Z). The clock then moves
	// about 3 s a body, slower at night.
	Start time.Time
}

// Body is one Kafka message.
type Body struct {
	Key       []byte // phone_number_id of the first change; nil when the body has none
	Value     []byte // the webhook body, a fresh slice the caller may keep or change
	Duplicate bool   // a byte-for-byte re-delivery of an earlier body
	Poison    string // "" for a valid body, else the Poison* kind that must be dead-lettered
}

// Business is one business phone number.
type Business struct{ WABA, PhoneNumberID, DisplayPhone string }

// Generator produces the bodies of one Config. It is not safe for concurrent use.
type Generator struct {
	cfg Config
	rng *rand.Rand
	mix uint64    // seed-derived salt: ids of two seeds differ
	n   int       // bodies produced
	now int64     // the clock, unix seconds; event timestamps come from it
	seq uint64    // id counter: every wamid and wacid is unique
	ctr [3]uint32 // counters of BSUIDs, parent BSUIDs and phones ever issued

	users   []user
	biz     []business
	wabaBiz [][]uint8
	recent  [256]int32 // users who wrote lately: replies, calls and changes favour them
	nrec    int

	msgs, calls minHeap[pend]  // follow-up statuses and call events, by due time
	retries     minHeap[retry] // re-deliveries, by body number
	states      []msgState     // final status of outbound messages in flight
	free        []int32
	final       [5]int // outbound messages by final status (index = step)

	items   [4]item
	nitems  int
	arena   []byte // this body's rendered events and contacts
	saved   [16]saved
	nsaved  int
	lastOut uint64 // latest outbound message: reactions and button replies point at it
	turn    int    // next poison kind

	exp Expected
}

// New returns a generator for cfg, with defaults filled in.
func New(cfg Config) *Generator {
	cfg.Webhooks = max(cfg.Webhooks, 0)
	if cfg.Users <= 0 {
		cfg.Users = max(cfg.Webhooks/10, 1)
	}
	if cfg.Businesses <= 0 {
		cfg.Businesses = 3
	}
	cfg.Businesses = min(cfg.Businesses, 200)
	if cfg.DuplicateRate == 0 {
		cfg.DuplicateRate = 0.10
	}
	cfg.DuplicateRate = min(max(cfg.DuplicateRate, 0), 0.9)
	cfg.PoisonRate = min(max(cfg.PoisonRate, 0), 1)
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	}
	g := &Generator{cfg: cfg, mix: mix(uint64(cfg.Seed)), now: cfg.Start.Unix()}
	g.rng = rand.New(rand.NewPCG(uint64(cfg.Seed), 0x7761706970652e67))
	g.arena = make([]byte, 0, 8<<10)
	g.initBusinesses()
	g.initUsers()
	return g
}

// Config returns the configuration in use, defaults filled in.
func (g *Generator) Config() Config { return g.cfg }

// Businesses returns the business phone numbers the traffic goes through.
func (g *Generator) Businesses() []Business {
	out := make([]Business, len(g.biz))
	for i := range g.biz {
		out[i] = g.biz[i].Business
	}
	return out
}

// Next returns the next body, and false once Config.Webhooks bodies were produced.
func (g *Generator) Next() (Body, bool) {
	if g.n >= g.cfg.Webhooks {
		return Body{}, false
	}
	if g.n++; g.n > 1 {
		g.tick() // the first body happens at Start
	}
	if r, ok := g.retries.popDue(int64(g.n)); ok {
		g.exp.Duplicates++
		g.scheduleRetry(r.key, r.val) // Meta keeps retrying: a body may come three times
		return Body{Key: r.key, Value: r.val, Duplicate: true}, true
	}
	g.arena, g.nitems = g.arena[:0], 0
	if g.cfg.PoisonRate > 0 && g.rng.Float64() < g.cfg.PoisonRate {
		return g.poison(), true
	}
	switch x := g.rng.IntN(100); {
	case x < 47:
		g.inbound()
	case x < 89:
		g.statuses()
	case x < 99:
		g.call()
	default:
		g.identityChange()
	}
	return g.emit(), true
}

// Clock is the event time of the latest body Next returned.
func (g *Generator) Clock() time.Time { return time.Unix(g.now, 0).UTC() }

// tick moves the clock by a random gap whose mean follows the day: the Americas' night
// (05-12 UTC) is three times quieter, so hourly reports look like real ones.
func (g *Generator) tick() {
	mean := 2
	if h := g.now / 3600 % 24; h >= 5 && h < 12 {
		mean = 6
	}
	g.now += int64(g.rng.IntN(2*mean + 1))
}

package identity

import (
	"bytes"
	"slices"
	"testing"

	"github.com/wapipe/wapipe/model"
)

const (
	erasePhone = "5511988880000"
	eraseBSUID = "BR.9001"
	eraseUser  = "@ana"
	cut        = int64(1000)
)

// personWith resolves a user seen with phone, BSUID, username and profile name before cut.
func personWith(t *testing.T, s *Store) Resolution {
	t.Helper()
	return resolve(t, s, Facts{At: 500, Phone: erasePhone, BSUID: eraseBSUID, Username: eraseUser, ProfileName: "Ana"})
}

func erase(t *testing.T, s *Store, id string, at int64) Imported {
	t.Helper()
	got, err := s.Import([][]byte{ErasureRecord(tenant, id, at)})
	if err != nil || len(got.Bad) > 0 {
		t.Fatalf("Import(erasure): %v %v", got.Bad, err)
	}
	return got
}

// assertErased fails unless the contact holds no phone, username or profile name and no
// phone or username key resolves to it, while its BSUID still does.
func assertErased(t *testing.T, name string, s *Store, id string) {
	t.Helper()
	c := contact(t, s, id)
	if c.Phone != "" || c.Username != "" || c.ProfileName != "" || c.Erased == 0 {
		t.Fatalf("%s: contact after the erasure: phone %q username %q profile %q erased %d", name, c.Phone, c.Username, c.ProfileName, c.Erased)
	}
	for _, k := range c.Keys {
		if k.Type == KeyPhone || k.Type == KeyUsername {
			t.Fatalf("%s: key %s %s survived the erasure", name, k.Type, k.Value)
		}
	}
	for _, k := range [][2]string{{KeyPhone, erasePhone}, {KeyUsername, eraseUser}} {
		if _, ok, err := s.ContactOf(tenant, k[0], k[1]); ok || err != nil {
			t.Fatalf("%s: %s %s still resolves (%v)", name, k[0], k[1], err)
		}
	}
	if got := contactOf(t, s, KeyBSUID, eraseBSUID); got != id {
		t.Fatalf("%s: the BSUID resolves to %s, want %s (counts join on it)", name, got, id)
	}
}

func TestErasureWipesPhoneUsernameAndProfile(t *testing.T) {
	s := newStore(t)
	id := personWith(t, s).Who.ContactID
	got := erase(t, s, id, cut)
	assertErased(t, "store", s, id)
	row := findIdentityRow(got.Rows, id)
	if row == nil || row.Phone != nil || row.Username != nil || row.Profile != nil || row.PhoneSource != "" || row.BSUID == nil {
		t.Fatalf("identities row after the erasure: %+v", row)
	}
	if len(got.Republish) != 1 || got.Republish[0].ID != id {
		t.Fatalf("Republish = %v, want the erased contact: its last snapshot must carry the erasure", got.Republish)
	}
	if again := erase(t, s, id, cut); len(again.Rows) != 0 || len(again.Republish) != 0 {
		t.Fatalf("the same erasure again changed %d rows, republished %v", len(again.Rows), again.Republish)
	}
}

// A worker that had not applied the erasure publishes its stale snapshot after it: the
// erased store keeps nothing of it and publishes its own again, so the topic's last record
// of the contact carries the erasure.
func TestStaleSnapshotAfterErasureDoesNotResurrect(t *testing.T) {
	a, b := newStore(t), newStore(t)
	ra := personWith(t, a)
	id := ra.Who.ContactID
	stale := published(t, a, ra.Changed)
	importAll(t, b, stale)
	erase(t, b, id, cut)

	got, err := b.Import(stale)
	if err != nil {
		t.Fatal(err)
	}
	assertErased(t, "after the stale snapshot", b, id)
	if len(got.Republish) == 0 {
		t.Fatal("the stale snapshot was taken as covering the erased contact: nothing republished")
	}
	// Worker A meets the erasure only through B's snapshot (the erasure record compacted away).
	importAll(t, a, published(t, b, []model.Row{&model.IdentityRow{Tenant: tenant, ContactID: id}}))
	assertErased(t, "A from B's snapshot", a, id)
}

// A fresh worker reading the topic in either order ends erased: the stale snapshot then
// the erasure, or the erasure (of a contact it does not know yet) then the stale snapshot.
func TestFreshWorkerEndsErasedWhateverTheOrder(t *testing.T) {
	a := newStore(t)
	ra := personWith(t, a)
	id := ra.Who.ContactID
	stale := published(t, a, ra.Changed)
	record := ErasureRecord(tenant, id, cut)

	before := newStore(t)
	importAll(t, before, append(append([][]byte{}, stale...), record))
	assertErased(t, "stale then erasure", before, id)

	after := newStore(t)
	importAll(t, after, append([][]byte{record}, stale...))
	assertErased(t, "erasure then stale", after, id)
}

// Traffic after the erasure starts a fresh history from what it carries; an event from
// before it, replayed, brings nothing back and its rows carry nothing personal.
func TestTrafficAfterErasureStartsFresh(t *testing.T) {
	s := newStore(t)
	id := personWith(t, s).Who.ContactID
	erase(t, s, id, cut)

	old := resolve(t, s, Facts{At: 600, Phone: erasePhone, BSUID: eraseBSUID, Username: eraseUser, ProfileName: "Ana"})
	if w := old.Who; w.Phone != nil || w.Username != "" || w.ProfileName != "" || w.ContactID != id {
		t.Fatalf("an event from before the erasure resolved to %+v (phone %s)", w, str(w.Phone))
	}
	assertErased(t, "after a replayed old event", s, id)

	fresh := resolve(t, s, Facts{At: 2000, BSUID: eraseBSUID, ProfileName: "A."})
	if w := fresh.Who; w.ContactID != id || w.Phone != nil || w.ProfileName != "A." {
		t.Fatalf("new traffic without a phone resolved to %+v (phone %s)", w, str(w.Phone))
	}
	resolve(t, s, Facts{At: 2100, BSUID: eraseBSUID, Phone: "5511977770000"})
	c := contact(t, s, id)
	if c.Phone != "5511977770000" || c.ProfileName != "A." || c.Username != "" {
		t.Fatalf("after new traffic: %+v", c)
	}
	for _, k := range c.Keys {
		if k.Type == KeyPhone && (k.Value != "5511977770000" || k.FirstSeen != 2100) {
			t.Fatalf("phone key %+v: want only the new number, first seen 2100", k)
		}
	}
}

// A person known under two contacts merged into one is erased under both: the merged-away
// contact's row shows its last facts too.
func TestErasureCoversMergedContacts(t *testing.T) {
	s := newStore(t)
	x := resolve(t, s, Facts{At: 100, Phone: erasePhone, ProfileName: "Ana"}).Who.ContactID
	l := resolve(t, s, Facts{At: 200, BSUID: eraseBSUID, Username: eraseUser}).Who.ContactID
	resolve(t, s, Facts{At: 300, Phone: erasePhone, BSUID: eraseBSUID})
	if lc := contact(t, s, l); lc.MergedInto != x {
		t.Fatalf("setup: %s merged into %q, want %s", l, lc.MergedInto, x)
	}
	got := erase(t, s, l, cut) // erasing by the merged-away id reaches the survivor too
	assertErased(t, "survivor", s, x)
	lc := contact(t, s, l)
	if lc.Phone != "" || lc.Username != "" || lc.ProfileName != "" {
		t.Fatalf("merged-away contact after the erasure: %+v", lc)
	}
	if findIdentityRow(got.Rows, l) == nil || findIdentityRow(got.Rows, x) == nil {
		t.Fatalf("rows of the erasure: want the identities rows of both %s and %s", x, l)
	}
}

func findIdentityRow(rows []model.Row, id string) *model.IdentityRow {
	for _, r := range rows {
		if ir, ok := r.(*model.IdentityRow); ok && ir.ContactID == id {
			return ir
		}
	}
	return nil
}

func TestErasureRecordRoundTrip(t *testing.T) {
	e, err := decodeErasure(ErasureRecord("t", "c_1", 42))
	if err != nil || e.tenant != "t" || e.id != "c_1" || e.cut != 42 {
		t.Fatalf("decode = %+v, %v", e, err)
	}
	for _, bad := range [][]byte{{erasureFormat}, ErasureRecord("", "c", 1), ErasureRecord("t", "c", 0)} {
		if _, err := decodeErasure(bad); err == nil {
			t.Fatalf("decodeErasure(%q) accepted", bad)
		}
	}
	r := &record{head: head{tenant: "t", id: "c", erased: 77, version: 9}}
	back, err := decode("t", "c", r.encode(nil))
	if err != nil || back.erased != 77 || back.version != 9 {
		t.Fatalf("record round trip: %+v %v", back, err)
	}
}

// A snapshot that differs from the erased record only by the missing cut still does not
// cover it: were it the topic's last record, a fresh worker would never learn the erasure.
func TestSnapshotWithoutTheCutDoesNotCover(t *testing.T) {
	a, b := newStore(t), newStore(t)
	ra := resolve(t, a, Facts{At: 500, BSUID: eraseBSUID})
	stale := published(t, a, ra.Changed)
	importAll(t, b, stale)
	erase(t, b, ra.Who.ContactID, cut)
	got, err := b.Import(stale)
	if err != nil || len(got.Republish) != 1 {
		t.Fatalf("Republish = %v, %v: want the erased contact", got.Republish, err)
	}
}

// The store names the contacts whose erasure it applied, once: the worker takes them after
// each Seal and erases them in ClickHouse again once that batch is durable.
func TestTakeErasedNamesTheErasedGroupOnce(t *testing.T) {
	s := sharedStore(t, openDB(t, t.TempDir()))
	x := resolve(t, s, Facts{At: 100, Phone: erasePhone}).Who.ContactID
	l := resolve(t, s, Facts{At: 200, BSUID: eraseBSUID}).Who.ContactID
	resolve(t, s, Facts{At: 300, Phone: erasePhone, BSUID: eraseBSUID})
	checkpoint(t, s)
	if got := s.TakeErased(); len(got) != 0 {
		t.Fatalf("erased contacts before any erasure: %v", got)
	}
	erase(t, s, x, cut)
	checkpoint(t, s)
	got := s.TakeErased()
	if len(got) != 2 || !slices.Contains(got, ContactRef{tenant, x}) || !slices.Contains(got, ContactRef{tenant, l}) {
		t.Fatalf("TakeErased = %v, want %s and %s", got, x, l)
	}
	if again := s.TakeErased(); len(again) != 0 {
		t.Fatalf("TakeErased a second time = %v", again)
	}
	erase(t, s, x, cut) // read again: the cut does not move
	checkpoint(t, s)
	if again := s.TakeErased(); len(again) != 0 {
		t.Fatalf("TakeErased after the same erasure again = %v", again)
	}
}

// On the compacted identity topic, the erasure record is followed by a stale snapshot of a
// worker that published before it read the erasure. Once the workers have caught up, the
// last record of the contact carries the erasure: a fresh worker reading only the last
// record of each key, or the whole uncompacted log, knows the contact without its data.
func TestCompactedTopicKeepsTheErasure(t *testing.T) {
	stores := []*Store{newStore(t), newStore(t)}
	type record struct {
		from       int
		key, value []byte
	}
	var log []record
	publish := func(i int, refs []ContactRef) {
		snaps, err := stores[i].Snapshots(refs)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range snaps {
			log = append(log, record{i, s.Key, s.Value})
		}
	}
	next := make([]int, len(stores))
	catchUp := func(i int) {
		var vs [][]byte
		for ; next[i] < len(log); next[i]++ {
			if log[next[i]].from != i {
				vs = append(vs, log[next[i]].value)
			}
		}
		publish(i, importAll2(t, stores[i], vs))
	}
	id := personWith(t, stores[0]).Who.ContactID
	publish(0, []ContactRef{{tenant, id}})
	catchUp(1)
	log = append(log, record{-1, SnapshotKey(tenant, id), ErasureRecord(tenant, id, cut)})
	r := resolve(t, stores[1], Facts{At: 700, BSUID: eraseBSUID, Phone: erasePhone, ProfileName: "Ana M."})
	publish(1, refsOf(r.Changed)) // B has not read the erasure yet: a stale snapshot after it
	for round := 0; round < 10; round++ {
		before := len(log)
		catchUp(0)
		catchUp(1)
		if len(log) == before {
			break
		}
	}
	last := map[string]int{}
	for i, e := range log {
		last[string(e.key)] = i
	}
	var compacted, whole [][]byte
	for i, e := range log {
		whole = append(whole, e.value)
		if last[string(e.key)] == i {
			compacted = append(compacted, e.value)
		}
	}
	for name, values := range map[string][][]byte{"compacted": compacted, "whole log": whole} {
		fresh := newStore(t)
		importAll(t, fresh, values)
		assertErased(t, "a fresh worker from the "+name+" topic", fresh, id)
	}
	assertErased(t, "worker A", stores[0], id)
	assertErased(t, "worker B", stores[1], id)
}

// importAll2 imports and returns what the store must publish again.
func importAll2(t *testing.T, s *Store, values [][]byte) []ContactRef {
	t.Helper()
	got, err := s.Import(values)
	if err != nil || len(got.Bad) > 0 {
		t.Fatalf("Import: %v %v", got.Bad, err)
	}
	return got.Republish
}

// A tombstone outlives a restart: the store reopened on the same state still meets the
// contact erased when its stale snapshot comes after the erasure.
func TestTombstoneOutlivesRestart(t *testing.T) {
	a := newStore(t)
	ra := personWith(t, a)
	id := ra.Who.ContactID
	db := openDB(t, t.TempDir())
	importAll(t, New(db), [][]byte{ErasureRecord(tenant, id, cut)})
	reopened := New(db) // a new Store reads the state as a restarted worker does
	importAll(t, reopened, published(t, a, ra.Changed))
	assertErased(t, "after a restart", reopened, id)
}

func FuzzDecodeErasure(f *testing.F) {
	f.Add(ErasureRecord("t", "c_1", 42))
	f.Add([]byte{erasureFormat, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if !IsErasure(b) {
			return
		}
		e, err := decodeErasure(b)
		if err == nil && !bytes.Equal(ErasureRecord(e.tenant, e.id, e.cut), b) {
			if again, err := decodeErasure(ErasureRecord(e.tenant, e.id, e.cut)); err != nil || *again != *e {
				t.Fatalf("re-decode mismatch: %+v %v", again, err)
			}
		}
	})
}

// A stop after the batch that applied an erasure was sealed and before it was checkpointed
// (the worker repeats the erasure in ClickHouse in between) loses the erasure with the
// batch's state; the erasure record, read again, applies it again and names the contact
// again, so the worker repeats it in ClickHouse once more: nothing else needs keeping.
func TestErasureLostWithItsBatchIsNamedAgain(t *testing.T) {
	db := openDB(t, t.TempDir())
	s := sharedStore(t, db)
	id := personWith(t, s).Who.ContactID
	checkpoint(t, s)
	erase(t, s, id, cut)
	s.st.Seal() // the stop comes before the checkpoint
	if got := s.TakeErased(); len(got) != 1 {
		t.Fatalf("TakeErased = %v, want %s", got, id)
	}
	restarted := sharedStore(t, db)
	if c := contact(t, restarted, id); c.Erased != 0 || c.Phone != erasePhone {
		t.Fatalf("after the stop the state holds %+v: the erasure was checkpointed without its batch", c)
	}
	erase(t, restarted, id, cut) // the erasure record read again after the restart
	checkpoint(t, restarted)
	if got := restarted.TakeErased(); len(got) != 1 || got[0] != (ContactRef{tenant, id}) {
		t.Fatalf("TakeErased after the erasure read again = %v, want %s", got, id)
	}
	assertErased(t, "restarted", restarted, id)
}

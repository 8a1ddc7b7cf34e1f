package identity

// covers reports whether snapshot s holds everything this store knows of the same
// contact (own, its record here after the import). The identity topic is compacted: only
// the last snapshot of a contact survives, so when the last one lacks what this store
// holds, this store must publish its own (Imported.Republish) or a worker bootstrapping
// after compaction never learns it. Times within step (Config.LastSeenStep) count as
// equal, as they do for the rows, so two workers' republished snapshots agree and the
// exchange ends.
func covers(s, own *record, step int64) bool {
	later := func(mine, theirs int64) bool { return mine > theirs && mine-theirs >= max(step, 1) }
	if own.erased > s.erased || own.mergedInto != s.mergedInto || own.firstSeen < s.firstSeen || later(own.lastSeen, s.lastSeen) {
		return false
	}
	for _, f := range [...]struct{ mine, theirs fact }{{own.bsuid, s.bsuid}, {own.parent, s.parent},
		{own.phone, s.phone}, {own.user, s.user}, {own.name, s.name}} {
		if f.mine.V != f.theirs.V || f.mine.Rank != f.theirs.Rank || later(f.mine.At, f.theirs.At) {
			return false
		}
	}
	for i := range own.keys {
		k := &own.keys[i]
		j := s.key(k.code, k.value)
		if j < 0 || k.firstSeen < s.keys[j].firstSeen || later(k.lastSeen, s.keys[j].lastSeen) {
			return false
		}
	}
	return true
}

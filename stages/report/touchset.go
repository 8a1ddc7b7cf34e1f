package report

import (
	"math"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// maxTouchIDs bounds a lead's touch set: 8 KB of hashes in its state and in its snapshot on the
// identity topic, however many referrals one contact sends for one ad (a bot, a retry storm).
const maxTouchIDs = 1024

// touchSet is the set of a lead's touches, the referral message ids as 64-bit hashes, sorted
// and distinct. Up to maxTouchIDs touches it holds them all and counts exactly; past that it
// keeps the smallest maxTouchIDs hashes (a bottom-k sketch) and estimates the count from the
// largest of them, within about 3%. Union keeps what both hold, in any order and any number of
// times: two workers' views of one lead, or a merge replayed, count each touch once.
type touchSet []uint64

func touchOf(messageID string) touchSet { return touchSet{xxhash.Sum64String(messageID)} }

// union returns the set of both, bounded to maxTouchIDs (the smallest hashes).
func (s touchSet) union(o touchSet) touchSet {
	out := make(touchSet, 0, min(len(s)+len(o), maxTouchIDs))
	i, j := 0, 0
	for len(out) < maxTouchIDs && (i < len(s) || j < len(o)) {
		switch {
		case j == len(o) || i < len(s) && s[i] < o[j]:
			out = append(out, s[i])
			i++
		case i == len(s) || o[j] < s[i]:
			out = append(out, o[j])
			j++
		default: // equal
			out = append(out, s[i])
			i, j = i+1, j+1
		}
	}
	return out
}

// covers says whether the union with o would change nothing.
func (s touchSet) covers(o touchSet) bool {
	u := s.union(o)
	if len(u) != len(s) {
		return false
	}
	for i := range u {
		if u[i] != s[i] {
			return false
		}
	}
	return true
}

// count is the number of distinct touches: exact below the bound, estimated at it.
func (s touchSet) count() uint32 {
	if len(s) < maxTouchIDs {
		return uint32(len(s))
	}
	// The k-th smallest of n uniform hashes sits near k/n of the range: n ≈ (k-1) / (h_k / 2^64).
	kth := float64(s[len(s)-1]) / math.Exp2(64)
	return uint32(min(float64(maxTouchIDs-1)/kth, math.MaxUint32))
}

// touchesOf makes the set of an older state's message ids (kept in touch order).
func touchesOf(ids []string) touchSet {
	s := make(touchSet, len(ids))
	for i, id := range ids {
		s[i] = xxhash.Sum64String(id)
	}
	slices.Sort(s)
	s = slices.Compact(s)
	return s[:min(len(s), maxTouchIDs)]
}

package pipeline

import "testing"

// The commit point is the first offset that is not durable, however acks arrive.
func TestLeaseCommitsOnlyContiguousDurableOffsets(t *testing.T) {
	l := newLease("t", 0, nil, 10)
	for o := int64(10); o < 15; o++ {
		l.fetched(o)
	}
	steps := []struct {
		ack  int64
		want int64
	}{
		{12, 10}, // a later record is durable, an earlier one is not: hold
		{11, 10},
		{10, 13}, // 10, 11, 12 are durable now
		{14, 13},
		{13, 15},
	}
	for _, s := range steps {
		l.ack(s.ack)
		if got, _ := l.commitPoint(); got != s.want {
			t.Fatalf("after ack %d: commit point %d, want %d", s.ack, got, s.want)
		}
	}
	if l.inFlight() != 0 {
		t.Fatalf("in flight %d, want 0", l.inFlight())
	}
}

// A revoked lease never asks to commit again, whatever is acknowledged late.
func TestRevokedLeaseIsFenced(t *testing.T) {
	l := newLease("t", 3, nil, 0)
	l.fetched(0)
	l.fetched(1)
	l.ack(0)
	if _, moved := l.commitPoint(); !moved {
		t.Fatal("a live lease with a durable record should want to commit")
	}
	l.markCommitted(1)
	l.stop()
	select {
	case <-l.drained:
		t.Fatal("drained while offset 1 is still in flight")
	default:
	}
	l.revoke()
	l.ack(1)
	<-l.drained
	if _, moved := l.commitPoint(); moved {
		t.Fatal("a revoked lease must never commit")
	}
}

// Gaps in a partition (compaction, transaction markers) do not hold the commit point back.
func TestLeaseSkipsGapsBeforeFirstFetch(t *testing.T) {
	l := newLease("t", 0, nil, 5)
	l.fetched(9)
	l.ack(9)
	if got, _ := l.commitPoint(); got != 10 {
		t.Fatalf("commit point %d, want 10", got)
	}
}

// A record fetched but never handed to the stages holds the commit point back, so the
// partition's next owner re-reads it (a revoked generation must not skip it).
func TestUnfetchedRecordIsNotCommitted(t *testing.T) {
	l := newLease("t", 0, nil, 0)
	l.fetched(0)
	l.fetched(1)
	l.ack(0)
	l.unfetch(1)
	if got, _ := l.commitPoint(); got != 1 {
		t.Fatalf("commit point %d, want 1: offset 1 was never processed", got)
	}
	if l.inFlight() != 0 {
		t.Fatal("an unfetched record is not in flight")
	}
}

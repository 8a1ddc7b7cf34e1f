package pipeline

import (
	"sync"

	"github.com/segmentio/kafka-go"
)

// lease is one partition as owned by one generation of the consumer group. It tracks the
// offsets fetched and done, so the committable offset is the first one not yet durable.
// A lease that was revoked ignores acknowledgements: its generation can no longer commit,
// and the next owner will re-read from the last committed offset.
type lease struct {
	topic     string
	partition int
	gen       committer // the group generation, or the replica's offset store
	start     int64     // the offset the partition was assigned at (kafka.FirstOffset/LastOffset: none committed)

	mu        sync.Mutex
	queue     []int64        // fetched offsets not yet contiguous-done, in fetch order
	done      map[int64]bool // offsets done out of order
	next      int64          // every offset below next is durable
	committed int64          // last offset committed to Kafka (-1: none by this lease)
	stopped   bool           // the fetcher stopped: no more offsets will arrive
	revoked   bool           // fenced: never commits again
	drained   chan struct{}  // closed when stopped and nothing is in flight
}

func newLease(topic string, partition int, gen committer, start int64) *lease {
	return &lease{topic: topic, partition: partition, gen: gen, start: start, done: map[int64]bool{},
		next: start, committed: -1, drained: make(chan struct{})}
}

// fetched registers an offset as in flight. Offsets arrive in partition order.
func (l *lease) fetched(offset int64) {
	l.mu.Lock()
	if len(l.queue) == 0 && offset > l.next {
		// Compacted or transactional topics leave gaps; nothing below is pending.
		l.next = offset
	}
	l.queue = append(l.queue, offset)
	l.mu.Unlock()
}

// unfetch withdraws the last fetched offset: the record never entered the pipeline, so it
// must hold the commit point back rather than count as done (the next owner re-reads it).
func (l *lease) unfetch(offset int64) {
	l.mu.Lock()
	if n := len(l.queue); n > 0 && l.queue[n-1] == offset {
		l.queue = l.queue[:n-1]
	}
	if len(l.queue) == 0 && l.stopped {
		l.closeDrained()
	}
	l.mu.Unlock()
}

// ack marks an offset durable and advances the contiguous mark.
// Ack implements unit.Lease: the record at offset is durable.
func (l *lease) Ack(offset int64) { l.ack(offset) }

func (l *lease) ack(offset int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done[offset] = true
	for len(l.queue) > 0 && l.done[l.queue[0]] {
		delete(l.done, l.queue[0])
		l.next = l.queue[0] + 1
		l.queue = l.queue[1:]
	}
	if len(l.queue) == 0 {
		l.queue = nil // release the backing array of a long run
		if l.stopped {
			l.closeDrained()
		}
	}
}

// commitPoint returns the offset to commit and whether it moved since the last commit.
func (l *lease) commitPoint() (int64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next, !l.revoked && l.next > l.committed
}

// committedFrom is the partition's committed offset as the group sees it: the last this
// lease committed, else the one it was assigned at; a partition the group never committed
// counts from where a new group starts (first or last, given as the partition's bounds).
func (l *lease) committedFrom(first, last int64) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.committed >= 0:
		return l.committed
	case l.start >= 0:
		return l.start
	case l.start == kafka.LastOffset:
		return last
	}
	return first
}

func (l *lease) markCommitted(offset int64) {
	l.mu.Lock()
	if offset > l.committed {
		l.committed = offset
	}
	l.mu.Unlock()
}

// inFlight is how many fetched records are not yet durable.
func (l *lease) inFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

// stop says no more offsets will be fetched; drained closes once nothing is in flight, so
// the fetcher can wait for a clean hand-over before it leaves the generation.
func (l *lease) stop() {
	l.mu.Lock()
	l.stopped = true
	if len(l.queue) == 0 {
		l.closeDrained()
	}
	l.mu.Unlock()
}

// revoke fences the lease: from now on it never commits, whatever is acknowledged late.
func (l *lease) revoke() {
	l.mu.Lock()
	l.revoked = true
	l.mu.Unlock()
}

func (l *lease) closeDrained() {
	select {
	case <-l.drained:
	default:
		close(l.drained)
	}
}

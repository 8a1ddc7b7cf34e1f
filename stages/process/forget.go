package process

import (
	"sync"

	"github.com/wapipe/wapipe/identity"
)

// erasures keeps, per flushed batch, the contacts whose erasure (wapipe forget) the batch
// applied, until the batch is durable: only then may the worker erase them in ClickHouse
// again, after every row it wrote before applying the erasure. Flush runs on the process
// goroutine and Durable on the flush goroutine, hence the mutex.
type erasures struct {
	mu      sync.Mutex
	flushed [][]identity.ContactRef // oldest first, one entry per Flush not yet Durable
	durable []identity.ContactRef
}

func (e *erasures) flush(refs []identity.ContactRef) {
	e.mu.Lock()
	e.flushed = append(e.flushed, refs)
	e.mu.Unlock()
}

func (e *erasures) madeDurable() {
	e.mu.Lock()
	if len(e.flushed) > 0 {
		e.durable = append(e.durable, e.flushed[0]...)
		e.flushed = e.flushed[1:]
	}
	e.mu.Unlock()
}

// DurablyErased returns, once, the contacts erased by batches that are durable now.
func (s *Stage) DurablyErased() []identity.ContactRef {
	s.erased.mu.Lock()
	defer s.erased.mu.Unlock()
	out := s.erased.durable
	s.erased.durable = nil
	return out
}

package process

import (
	"sync"

	"github.com/wapipe/wapipe/identity"
)

// erasures keeps, per sealed batch, the contacts whose erasure (wapipe forget) the batch
// applied, until the batch is checkpointed: once its rows are durable the worker erases
// them in ClickHouse again (after every row it wrote before applying the erasure), then
// checkpoints. Flush runs on the process goroutine and Durable on the flush goroutine,
// hence the mutex.
type erasures struct {
	mu     sync.Mutex
	sealed [][]identity.ContactRef // oldest first, one entry per Flush not yet Durable
}

func (e *erasures) flush(refs []identity.ContactRef) {
	e.mu.Lock()
	e.sealed = append(e.sealed, refs)
	e.mu.Unlock()
}

func (e *erasures) oldest() []identity.ContactRef {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.sealed) == 0 {
		return nil
	}
	return e.sealed[0]
}

func (e *erasures) checkpointed() {
	e.mu.Lock()
	if len(e.sealed) > 0 {
		e.sealed[0] = nil
		e.sealed = e.sealed[1:]
	}
	e.mu.Unlock()
}

// DurablyErased returns the contacts erased by the oldest batch not yet checkpointed:
// call it once that batch's rows are durable, before Durable checkpoints it (and drops
// them). A stop before the checkpoint loses the batch's state, erasure included, so the
// replayed erasure record applies it again and it comes out here again.
func (s *Stage) DurablyErased() []identity.ContactRef { return s.erased.oldest() }

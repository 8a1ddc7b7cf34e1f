package identity

import (
	"fmt"

	"github.com/wapipe/wapipe/model"
)

// Versions before the state checkpointed once a batch was durable (package state) wrote
// changes before their rows were durable, and recorded the contacts of each such commit
// under id/d/<seq> so that the next start could rewrite their rows. This version writes
// none; it still reads what an older one left behind after a crash, once, at start.

const dirtyPfx = prefix + "d/"

// DirtyRows returns the current rows of every contact an older version recorded as
// changed by a commit whose batch was not durable when it stopped; the caller writes
// them before it processes anything, then calls ForgetDirty.
func (s *Store) DirtyRows() ([]model.Row, []ContactRef, error) {
	var refs []ContactRef
	seen := map[ContactRef]bool{}
	err := s.st.Scan([]byte(dirtyPfx), func(k, v []byte) error {
		d := reader{s: string(v)}
		for len(d.s) > 0 && !d.err {
			ref := ContactRef{Tenant: d.string(), ID: d.string()}
			if !d.err && !seen[ref] {
				seen[ref] = true
				refs = append(refs, ref)
			}
		}
		if d.err {
			return fmt.Errorf("%w: dirty record %x", ErrCorrupt, k)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var rows []model.Row
	for _, ref := range refs {
		rs, err := s.Rows(ref.Tenant, ref.ID)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, rs...)
	}
	return rows, refs, nil
}

// ForgetDirty drops the records DirtyRows read, once their rows are durable.
func (s *Store) ForgetDirty() error {
	return s.st.DropPrefix([]byte(dirtyPfx))
}

package identity

import (
	badger "github.com/dgraph-io/badger/v4"

	"github.com/wapipe/wapipe/model"
)

// Rows returns the contact's current identities row and one contact_keys row per key,
// with their stored versions. Resolve returns rows only when something changed, so a
// pipeline that re-reads an event after a crash (its rows never became durable, but the
// store had committed) re-emits them from here; writing them twice is harmless, the
// tables keep the newest version.
func (s *Store) Rows(tenant, contactID string) ([]model.Row, error) {
	var r *record
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		r, err = get(txn, tenant, contactID)
		return err
	})
	if err != nil || r == nil {
		return nil, err
	}
	rows := make([]model.Row, 0, 1+len(r.keys))
	rows = append(rows, r.row())
	for i := range r.keys {
		k := r.keyRow(&r.keys[i])
		rows = append(rows, &k)
	}
	return rows, nil
}

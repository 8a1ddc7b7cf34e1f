package process

import (
	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/model"
)

// Heal returns, at start, the rows a crash of an older version may have cut off: that
// version committed its state before a batch's rows were durable and recorded the contacts
// of such commits (identity.DirtyRows); replayed, their events change nothing and so would
// write nothing. For each contact merged away, its leads' merge into the survivor is applied
// again (a stop between that version's identity and report commits left it undone).
// MergeContacts applied twice changes nothing and returns the same rows. The state changes
// are sealed: the caller checkpoints them (Durable) once the rows are durable. This version
// leaves no such record, so for its own state Heal finds nothing.
func (s *Stage) Heal() ([]model.Row, []identity.ContactRef, error) {
	rows, refs, err := s.Identities.DirtyRows()
	if err != nil || len(refs) == 0 {
		return nil, nil, err
	}
	for _, ref := range refs {
		c, ok, err := s.Identities.Contact(ref.Tenant, ref.ID)
		if err != nil {
			return nil, nil, err
		}
		if !ok || c.MergedInto == "" {
			continue
		}
		who, err := s.survivor(ref.Tenant, c.MergedInto)
		if err != nil {
			return nil, nil, err
		}
		merged, err := s.Reports.MergeContacts(ref.Tenant, ref.ID, who.ContactID, who)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, merged...)
	}
	return rows, refs, s.Flush()
}

package process

import (
	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/model"
)

// Heal returns, at start, the rows a crash may have cut off: those of every contact whose
// last batch was checkpointed but not durable (identity.DirtyRows), and for each of them that
// was merged away, its leads' merge into the survivor, applied again. Replayed, the events of
// such a batch change nothing and so would write nothing. MergeContacts applied twice changes
// nothing and returns the same rows. The caller writes the rows, then calls Durable.
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

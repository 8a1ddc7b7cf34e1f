package process

import (
	"context"
	"errors"
	"fmt"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/stages/report"
	"github.com/wapipe/wapipe/unit"
)

// HeaderWorker names the worker that published an identity snapshot, so that a worker
// skips its own: its store holds them already.
const HeaderWorker = "x-wapipe-worker"

// Import implements pipeline.Stages.Import: it joins another worker's contact snapshot
// into this worker's identity store (contract section 4, rule 8), or its lead snapshot
// into the report state, and emits the rows that changed here, with the leads of any
// contact it merged moved to the survivor. A snapshot
// that cannot be read is dead-lettered; the log goes on.
func (s *Stage) Import(_ context.Context, u *unit.Unit) error {
	for _, h := range u.Rec.Headers {
		if h.Key == HeaderWorker && string(h.Value) == s.Self {
			return nil
		}
	}
	if report.IsLeadSnapshot(u.Rec.Value) {
		rows, republish, err := s.Reports.ImportLead(u.Rec.Value, s.survivor)
		if errors.Is(err, report.ErrCorrupt) {
			u.Reject("import", unit.ReasonBadSnapshot, err.Error())
			return nil
		}
		u.Rows, u.Republish = rows, republish && len(rows) > 0
		return err
	}
	got, err := s.Identities.Import([][]byte{u.Rec.Value})
	if err != nil {
		return err
	}
	if got.Bad[0] != nil {
		u.Reject("import", unit.ReasonBadSnapshot, got.Bad[0].Error())
		return nil
	}
	u.Rows = got.Rows
	if len(got.Republish) > 0 {
		// The publisher sends the snapshots of the contacts whose identities rows the unit
		// holds: add the row of each contact to republish that the import left unchanged
		// (the same version again: it reads once).
		rows, err := s.Identities.IdentityRows(got.Republish, got.Rows)
		if err != nil {
			return err
		}
		u.Rows, u.Republish = append(u.Rows, rows...), true
	}
	for _, r := range got.Rows {
		id, ok := r.(*model.IdentityRow)
		if !ok || id.MergedInto == "" {
			continue
		}
		who, err := s.survivor(id.Tenant, id.MergedInto)
		if err != nil {
			return err
		}
		merged, err := s.Reports.MergeContacts(id.Tenant, id.ContactID, who.ContactID, who)
		if err != nil {
			return err
		}
		u.Rows = append(u.Rows, merged...)
	}
	return nil
}

// survivor is the identity of the contact that contactID is today, following merges; a
// contact this worker has not met keeps its id.
func (s *Stage) survivor(tenant, contactID string) (model.Who, error) {
	who, ok, err := s.Identities.WhoOf(identity.Facts{Tenant: tenant}, contactID)
	if err != nil {
		return model.Who{}, fmt.Errorf("import: identity of %s: %w", contactID, err)
	}
	if !ok {
		who.ContactID = contactID
	}
	return who, nil
}

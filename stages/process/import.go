package process

import (
	"context"
	"fmt"

	"github.com/wapipe/wapipe/identity"
	"github.com/wapipe/wapipe/model"
	"github.com/wapipe/wapipe/pipeline"
)

// HeaderWorker names the worker that published an identity snapshot, so that a worker
// skips its own: its store holds them already.
const HeaderWorker = "x-wapipe-worker"

// Import implements pipeline.Stages.Import: it joins another worker's contact snapshot
// into this worker's identity store (contract section 4, rule 8) and emits the rows that
// changed here, with the leads of any contact it merged moved to the survivor. A snapshot
// that cannot be read is dead-lettered; the log goes on.
func (s *Stage) Import(_ context.Context, u *pipeline.Unit) error {
	for _, h := range u.Rec.Headers {
		if h.Key == HeaderWorker && string(h.Value) == s.Self {
			return nil
		}
	}
	rows, bad, err := s.Identities.Import([][]byte{u.Rec.Value})
	if err != nil {
		return err
	}
	if bad[0] != nil {
		u.Reject("import", bad[0].Error())
		return nil
	}
	u.Rows = rows
	for _, r := range rows {
		id, ok := r.(*model.IdentityRow)
		if !ok || id.MergedInto == "" {
			continue
		}
		who, _, err := s.Identities.WhoOf(identity.Facts{Tenant: id.Tenant}, id.MergedInto)
		if err != nil {
			return fmt.Errorf("import: identity of %s: %w", id.MergedInto, err)
		}
		merged, err := s.Reports.MergeContacts(id.Tenant, id.ContactID, who.ContactID, who)
		if err != nil {
			return err
		}
		u.Rows = append(u.Rows, merged...)
	}
	return nil
}
